import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { LoneServer, operatorCredentials } from "../testing/adversarial/lone-server.js";
import { sleep } from "../testing/adversarial/publish-loop.js";
import { settle } from "../testing/process/wait-for.js";
import { attacks, type AttackRun } from "./adversarial/attacks.js";
import { goalChecks, phaseFigures, type PhaseFigures } from "./adversarial/goals.js";
import { PublisherProcess } from "./adversarial/publisher-process.js";
import { watchPeakRss } from "./compare/peak-rss.js";
import { figure } from "./stats.js";

/**
 * `npm run bench -- adversarial [--baseline-seconds 10 --attack-seconds 10 --settle-seconds 2 --attacks partial-frames,…]`:
 * one `holdfast server` from the build (lone-server.ts: a one-server realm, production scrypt
 * cost) and a real confirm-mode publisher (the client library, one publish at a time, in a
 * process of its own). A warm-up, then the baseline (the publisher alone), then each attack of
 * attacks.ts with the publisher running, the server settling between them, then the baseline
 * again (how far the machine drifted). Per phase: the publisher's confirm p50 and p99, the
 * server's peak RSS and CPU; then each goal with its ratio to the baseline (goals.ts).
 */
export async function adversarialBench(argv: string[]): Promise<void> {
  const options = benchOptions(argv);
  const loadBefore = loadavg();
  const server = await LoneServer.start({ code: "build" });
  let publisher: PublisherProcess | undefined;
  const phases: PhaseFigures[] = [];
  const details = new Map<string, string>();
  try {
    // The primary takes its file as revision 1 on its first start; the admin attacks read it.
    await settle(() => server.admin("GET", "/api/v1/realm/revisions/1", { credentials: operatorCredentials }), (answer) => answer.status === 200, 30_000);
    publisher = await PublisherProcess.start(server.clientAddress);
    const phase = phaseRunner(server, publisher);
    await phase("warm-up", null, 3000);
    phases.push(await phase("baseline", null, options.baselineMs));
    for (const attack of options.attacks) {
      await settleServer(server, options.settleMs);
      const run = await attack.prepare(server);
      const measured = await phase(attack.name, run, options.attackMs);
      phases.push(measured);
      details.set(attack.name, measured.detail);
      process.stderr.write(`${attack.name}: ${measured.detail}\n`);
    }
    await settleServer(server, options.settleMs);
    phases.push(await phase("baseline-end", null, options.baselineMs));
    if (!server.running) throw new Error(`the server exited during the attacks:\n${server.logLines.slice(-30).join("\n")}`);
  } finally {
    await publisher?.close();
    await server.stop();
  }
  report(phases, details, { loadBefore, loadAfter: loadavg(), options });
}

function benchOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      "baseline-seconds": { type: "string", default: "10" },
      "attack-seconds": { type: "string", default: "10" },
      "settle-seconds": { type: "string", default: "2" },
      attacks: { type: "string", default: attacks.map((attack) => attack.name).join(",") },
    },
  });
  const names = values.attacks.split(",").filter((name) => name !== "");
  const unknown = names.filter((name) => !attacks.some((attack) => attack.name === name));
  if (unknown.length > 0) throw new Error(`--attacks: unknown ${unknown.join(", ")}; expected some of ${attacks.map((attack) => attack.name).join(", ")}`);
  return {
    baselineMs: Number(values["baseline-seconds"]) * 1000,
    attackMs: Number(values["attack-seconds"]) * 1000,
    settleMs: Number(values["settle-seconds"]) * 1000,
    attacks: attacks.filter((attack) => names.includes(attack.name)),
  };
}

type Phase = PhaseFigures & { readonly detail: string };

/** Runs one phase: the publisher publishing, with `attack` running until `durationMs` (or its own end), or alone for `durationMs`. */
function phaseRunner(server: LoneServer, publisher: PublisherProcess): (name: string, attack: AttackRun | null, durationMs: number) => Promise<Phase> {
  return async (name, attack, durationMs) => {
    const rss = watchPeakRss(new Map([["server", server.pid]]));
    const cpuBefore = cpuNow(server, publisher);
    const started = performance.now();
    publisher.begin();
    const detail = attack === null ? await sleep(durationMs).then(() => "the publisher alone") : await attack(Date.now() + durationMs);
    const result = await publisher.end();
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = cpuNow(server, publisher);
    const cpuMs = {
      server: cpuAfter.server - cpuBefore.server,
      publisher: cpuAfter.publisher - cpuBefore.publisher,
      attacker: cpuAfter.attacker - cpuBefore.attacker,
    };
    const peakRssBytes = rss.stop().get("server") ?? Number.NaN;
    if (result.failures.length > 0) process.stderr.write(`${name}: ${result.failures.length} publish(es) failed, first: ${result.failures[0]}\n`);
    return { ...phaseFigures({ name, seconds, latenciesMs: result.latenciesMs, failures: result.failures.length, peakRssBytes, cpuMs }), detail };
  };
}

/** Until the attackers' connections are gone (only the publisher's session left, bounded), then `pauseMs` more. */
async function settleServer(server: LoneServer, pauseMs: number): Promise<void> {
  const status = await settle(() => server.status(), (read) => read?.admission?.unauthenticated === 0 && read.sessions === 1, 20_000);
  if (status?.admission?.unauthenticated !== 0 || status.sessions !== 1) {
    const left = `${status?.admission?.unauthenticated} unauthenticated connections, ${status?.sessions} sessions`;
    process.stderr.write(`the server did not settle within 20 s: ${left}\n`);
  }
  await sleep(pauseMs);
}

/** CPU used so far by the server, the publisher and this process (the attacker), in ms. */
function cpuNow(server: LoneServer, publisher: PublisherProcess): { server: number; publisher: number; attacker: number } {
  const own = process.cpuUsage();
  return { server: processCpuMs(server.pid), publisher: processCpuMs(publisher.pid), attacker: (own.user + own.system) / 1000 };
}

/** User and system CPU of a process of ours, from /proc/PID/stat (clock ticks of 10 ms, Linux's USER_HZ). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const cpuColumns = (phase: PhaseFigures): string =>
  [phase.serverCpuPercent, phase.publisherCpuPercent, phase.attackerCpuPercent].map((value) => value.toFixed(0).padStart(4)).join("");

/** The summary's columns: each cell right-aligned to its header's width. */
const columns = ["phase", "s", "confirms", "failed", "p50 ms", "p99 ms", "p99/base", "peak RSS"] as const;
const widths = [22, 6, 8, 6, 7, 7, 8, 9];
const row = (cells: readonly string[]): string =>
  cells.map((cell, at) => (at === 0 ? cell.padEnd(widths[0] as number) : cell.padStart(widths[at] as number))).join(" ");

interface RunContext {
  readonly loadBefore: number[];
  readonly loadAfter: number[];
  readonly options: ReturnType<typeof benchOptions>;
}

function report(phases: readonly PhaseFigures[], details: ReadonlyMap<string, string>, context: RunContext): void {
  const common = { publisher: "client library, confirm mode, one publish at a time", server: "one holdfast server from the build" };
  for (const phase of phases) {
    const extra = { ...common, seconds: Number(phase.seconds.toFixed(1)), confirms: phase.confirmed, failures: phase.failures };
    figure(`adversarial.${phase.name}.confirm_p50_ms`, phase.p50Ms, "ms", extra);
    figure(`adversarial.${phase.name}.confirm_p99_ms`, phase.p99Ms, "ms", extra);
    figure(`adversarial.${phase.name}.publish_failures`, phase.failures, "publishes");
    figure(`adversarial.${phase.name}.peak_rss_mib`, phase.peakRssMib, "MiB");
    const cpu = { publisher: Number(phase.publisherCpuPercent.toFixed(1)), attacker: Number(phase.attackerCpuPercent.toFixed(1)) };
    figure(`adversarial.${phase.name}.server_cpu_percent`, phase.serverCpuPercent, "% of one core", cpu);
  }
  const baseline = phases.find((phase) => phase.name === "baseline");
  const attacked = phases.filter((phase) => details.has(phase.name));
  const checks = baseline === undefined ? [] : goalChecks(baseline, attacked);
  for (const check of checks) figure(check.name, check.value, check.unit, { goal: check.goal, met: check.met });
  const load = (values: number[]): string => values.map((value) => value.toFixed(2)).join(", ");
  figure("adversarial.load_average_1m_before", context.loadBefore[0] ?? Number.NaN, "load");
  figure("adversarial.load_average_1m_after", context.loadAfter[0] ?? Number.NaN, "load");
  const rows = phases.map((phase) => {
    const ratio = baseline === undefined ? "" : `${(phase.p99Ms / baseline.p99Ms).toFixed(2)}x`;
    const counts = [phase.seconds.toFixed(1), String(phase.confirmed), String(phase.failures)];
    const cells = [phase.name, ...counts, phase.p50Ms.toFixed(2), phase.p99Ms.toFixed(2), ratio, phase.peakRssMib.toFixed(1)];
    return `${row(cells)} ${cpuColumns(phase)}`;
  });
  process.stderr.write(
    [
      "",
      "adversarial: one server (build), a real confirm-mode publisher one publish at a time in its own process;",
      `load average before ${load(context.loadBefore)}, after ${load(context.loadAfter)} (1, 5, 15 min)`,
      `${row(columns)}  CPU % server/publisher/attacker`,
      ...rows,
      "",
      ...[...details].map(([name, detail]) => `${name}: ${detail}`),
      "",
      ...checks.map((check) => `${check.met ? "met    " : "NOT MET"} ${check.name}: ${check.value.toFixed(2)} ${check.unit} (goal: ${check.goal})`),
      "",
    ].join("\n"),
  );
}
