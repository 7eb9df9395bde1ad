import { parseArgs } from "node:util";
import { connect, type Connection } from "../src/index.js";
import { RealmFamily, familyCredentials } from "../testing/process/realm-family.js";
import { figure, percentile } from "./stats.js";

/**
 * `npm run bench -- realm-failover [--runs 20 --clients 10 --fault kill|pause]` (issue 5): a
 * realm family of real server processes (primary p1 with its backup p1b, a satellite, the DR
 * server; heartbeats 250 ms, timeout 1 s), `clients` client connections homed on p1. Each run:
 * kill -9 of p1 (or SIGSTOP: a hung server whose sockets stay open, noticed only by
 * heartbeats), the time until every client's home session is on p1b (a `reconnect` event
 * naming p1b), then p1 restarts (or SIGCONT) and the time until p1b has handed every client
 * back. Median and p99 over the runs.
 */
export async function realmFailoverBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: "string", default: "20" }, clients: { type: "string", default: "10" }, fault: { type: "string", default: "kill" } } });
  const fault = values.fault === "pause" ? "pause" : "kill";
  const runs = Number(values.runs);
  const clientCount = Number(values.clients);
  const family = await RealmFamily.start();
  const clients: Connection[] = [];
  const toBackup: number[] = [];
  const toPrimary: number[] = [];
  try {
    await family.waitForRevision(1, undefined, 60_000);
    const arrivals: Map<string, number>[] = [];
    for (let i = 0; i < clientCount; i += 1) {
      const client = await connect({ servers: [family.clientAddress("p1"), family.clientAddress("p1b")], ...familyCredentials, clientName: `bench-${i}` });
      const seen = new Map<string, number>();
      client.on((event) => {
        if (event.type === "reconnect") seen.set(event.server, Date.now());
      });
      arrivals.push(seen);
      clients.push(client);
      await client.status();
    }
    const allOn = (server: string, since: number): number | null => {
      const times = arrivals.map((seen) => seen.get(server));
      return times.every((time) => time !== undefined && time >= since) ? Math.max(...(times as number[])) : null;
    };
    const until = async (server: string, since: number, timeoutMs: number): Promise<number> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const at = allOn(server, since);
        if (at !== null) return at - since;
        if (Date.now() > deadline) throw new Error(`clients not all on ${server} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    for (let run = 1; run <= runs; run += 1) {
      await family.waitForRevision(1, undefined, 30_000);
      const killedAt = Date.now();
      if (fault === "kill") await family.kill("p1");
      else family.signal("p1", "SIGSTOP");
      const backupMs = await until("p1b", killedAt, 15_000);
      toBackup.push(backupMs);
      const restartedAt = Date.now();
      if (fault === "kill") family.startServer("p1");
      else family.signal("p1", "SIGCONT");
      const primaryMs = await until("p1", restartedAt, 60_000);
      toPrimary.push(primaryMs);
      process.stderr.write(`run ${run}: on the backup ${backupMs} ms after ${fault === "kill" ? "kill -9" : "SIGSTOP"}; back on the primary ${primaryMs} ms after ${fault === "kill" ? "its restart began" : "SIGCONT"}\n`);
    }
  } finally {
    for (const client of clients) client.close();
    await family.stop();
  }
  const sortedBackup = [...toBackup].sort((a, b) => a - b);
  const sortedPrimary = [...toPrimary].sort((a, b) => a - b);
  const extra = { runs, clients: clientCount, fault };
  figure(`realm-failover.${fault}.to_backup.p50`, percentile(sortedBackup, 0.5), "ms", extra);
  figure(`realm-failover.${fault}.to_backup.p99`, percentile(sortedBackup, 0.99), "ms", extra);
  figure(`realm-failover.${fault}.back_to_primary.p50`, percentile(sortedPrimary, 0.5), "ms", { ...extra, note: fault === "kill" ? "from the restart command, including the server process starting (tsx)" : "from SIGCONT" });
  figure(`realm-failover.${fault}.back_to_primary.p99`, percentile(sortedPrimary, 0.99), "ms", extra);
  process.stdout.write(
    `\nrealm failover (${fault === "kill" ? "kill -9" : "SIGSTOP"} of the primary), ${runs} runs, ${clientCount} clients: every client on the backup ${percentile(sortedBackup, 0.5)} ms (median) / ${percentile(sortedBackup, 0.99)} ms (p99) after the fault (goal: under 1 s; FTL's default timeout is 3 s); back on the primary ${percentile(sortedPrimary, 0.5)} / ${percentile(sortedPrimary, 0.99)} ms after ${fault === "kill" ? "it was restarted (process start included)" : "SIGCONT"}\n`,
  );
}
