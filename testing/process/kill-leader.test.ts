import { afterAll, describe, expect, it } from "vitest";
import { withTimeout } from "../../src/cli/with-timeout.js";
import { ClusterClient, OutcomeUnknownError, RequestFailedError, type Committed } from "../../src/client/cluster-client.js";
import { checkHistory, History, type AppliedCommand, type Operation } from "./history.js";
import { ProcessCluster } from "./process-cluster.js";

/**
 * kill -9 of the leader under load, twice, with 3 real member processes (real TCP, real
 * files with fsync). Clients record a Jepsen-style history (invoke, ok, fail, info); after the
 * load stops and every member (the restarted ones included) has caught up, each member's
 * applied commands are checked against it: every acknowledged payload exactly once at its
 * acknowledged index, nothing duplicated, nothing invented, nothing definitely failed, and
 * all members identical entry by entry.
 *
 * Timing is logged, never asserted (benchmarks measure speed); the only time bound asserted is
 * liveness: new commits within `failoverBoundMs` of a kill.
 */

const workers = 32;
const clientCount = 4;
/** Each worker's loop is bounded in count and in time. */
const operationsPerWorkerMax = 4_000;
const loadMsMax = 45_000;
/** A proposal unanswered for this long is recorded as info (indeterminate). */
const proposalWaitMs = 8_000;
const recordCommandsMax = 200_000;
const failoverBoundMs = 20_000;
const catchUpBoundMs = 20_000;
const kills = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, boundMs: number, probe: () => Promise<T | null | undefined> | T | null | undefined): Promise<T> {
  const deadline = now() + boundMs;
  while (now() < deadline) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    await sleep(20);
  }
  throw new Error(`${what}: not within ${boundMs} ms`);
}

/** Record a proposal's outcome, also when it arrives after we stopped waiting for it. */
function classify(history: History, operation: Operation, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof OutcomeUnknownError) history.info(operation, message, now());
  // The client's own deadline: indeterminate as far as this test is concerned.
  else if (error instanceof RequestFailedError && !/within \d+ ms/.test(message)) history.fail(operation, message, now());
  else history.info(operation, message, now());
}

let cluster: ProcessCluster | null = null;
const clients: ClusterClient[] = [];

afterAll(async () => {
  for (const client of clients) client.close();
  await cluster?.stop();
}, 30_000);

describe("real processes: kill -9 of the leader under load", () => {
  it(
    "keeps every acknowledged command, exactly once at its index, on every member",
    async () => {
      const started = now();
      cluster = await ProcessCluster.start({ recordCommandsMax, keepLogLines: 300 });
      const running = cluster;
      const ids = running.cluster.members.map((member) => member.id);
      let stopping = false;
      const log = (line: string): void => console.log(`[kill-leader +${Math.round(now() - started)} ms] ${line}`);
      try {
        const firstLeader = await running.waitForLeader();
        const firstTerm = (await running.status(firstLeader))?.term ?? 0;
        log(`leader ${firstLeader} in term ${firstTerm}`);

        // --- load --------------------------------------------------------------------------
        const history = new History();
        const loadDeadline = now() + loadMsMax;
        /** Set at each kill: the first acknowledgment of a proposal invoked after it. */
        let watch: { sinceMs: number; first: Operation | null } = { sinceMs: Infinity, first: null };
        for (let at = 0; at < clientCount; at += 1) {
          clients.push(new ClusterClient({ members: running.cluster.members, secret: running.cluster.secret, requestTimeoutMs: 5_000 }));
        }
        const worker = async (id: number, client: ClusterClient): Promise<void> => {
          for (let seq = 0; seq < operationsPerWorkerMax && !stopping && now() < loadDeadline; seq += 1) {
            const operation = history.invoke(id, `w${id}-${seq}`, now());
            const attempt = client.propose(encoder.encode(operation.payload));
            const recorded = attempt.then(
              (committed: Committed) => {
                history.ok(operation, committed.index, committed.term, now());
                if (watch.first === null && operation.invokedAtMs >= watch.sinceMs) watch.first = operation;
              },
              (error: unknown) => classify(history, operation, error),
            );
            let timer: NodeJS.Timeout | undefined;
            const waited = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), proposalWaitMs)));
            if ((await Promise.race([recorded, waited])) === "timeout") history.info(operation, `no answer within ${proposalWaitMs} ms`, now());
            clearTimeout(timer);
          }
        };
        const load = Promise.all(Array.from({ length: workers }, (_, id) => worker(id, clients[id % clientCount] as ClusterClient)));

        // --- faults: kill -9 the leader, measure, restart; twice --------------------------
        const failoverMs: number[] = [];
        await sleep(1_500);
        for (let round = 1; round <= kills; round += 1) {
          const leader = await running.waitForLeader();
          const leaderStatus = await running.status(leader);
          watch = { sinceMs: now(), first: null };
          const killedAt = watch.sinceMs;
          await running.kill(leader);
          log(`round ${round}: kill -9 leader ${leader} (term ${leaderStatus?.term}, commit ${leaderStatus?.commitIndex}) after ${history.operations.length} operations`);
          const first = await until(`round ${round}: a proposal invoked after the kill committed`, failoverBoundMs, () => watch.first);
          const ms = (first.completedAtMs ?? Number.NaN) - killedAt;
          failoverMs.push(ms);
          log(`round ${round}: leader kill -> first new commit ${Math.round(ms)} ms (${first.payload} at ${first.index}, term ${first.term})`);

          running.startMember(leader);
          // kill -9 is not a power loss: what the process wrote is in the page cache, so it
          // must come back with its log, not empty.
          const recovered = await until(`round ${round}: restarted ${leader} answers`, catchUpBoundMs, async () => {
            try {
              return await withTimeout(running.client.status(leader), 1_000);
            } catch {
              return null;
            }
          });
          log(`round ${round}: ${leader} restarted, first status: log up to ${recovered.status.history.index} (term ${recovered.status.history.term}), empty: ${recovered.emptyReason ?? "no"}`);
          expect(recovered.emptyReason).toBeNull();
          const newLeader = await running.waitForLeader(catchUpBoundMs, [leader]);
          const target = (await running.status(newLeader))?.commitIndex ?? 0;
          await until(`round ${round}: restarted ${leader} caught up to ${target}`, catchUpBoundMs, async () => {
            const status = await running.status(leader);
            return status && status.consistency === "up-to-date" && status.appliedIndex >= target ? status : null;
          });
          log(`round ${round}: restarted ${leader} caught up to ${target}; leader ${newLeader}`);
          await sleep(1_000);
        }
        stopping = true;
        await load;
        log(`load stopped: ${history.operations.length} operations`);
        expect(history.operations.length).toBeLessThan(recordCommandsMax);

        // --- convergence ---------------------------------------------------------------------
        let previous = "";
        const converged = await until("every member at the same commit index, all applied", catchUpBoundMs, async () => {
          const statuses = await Promise.all(ids.map((id) => running.status(id)));
          if (statuses.some((status) => status === null)) return null;
          const commit = statuses[0]?.commitIndex;
          if (!statuses.every((status) => status?.commitIndex === commit && status?.appliedIndex === commit)) return null;
          const key = statuses.map((status) => `${status?.commitIndex}/${status?.term}`).join(",");
          const stable = key === previous;
          previous = key;
          return stable ? statuses : null;
        });
        const finalTerm = Math.max(...converged.map((status) => status?.term ?? 0));
        log(`converged at commit ${converged[0]?.commitIndex}, term ${finalTerm}`);

        const applied = new Map<string, AppliedCommand[]>();
        for (const id of ids) {
          const commands: AppliedCommand[] = [];
          for (let from = 1; ; ) {
            const page = await running.client.applied(id, from, 65_536);
            if (page.length === 0) break;
            for (const command of page) commands.push({ index: command.index, payload: decoder.decode(command.payload) });
            from = (page[page.length - 1]?.index ?? from) + 1;
          }
          applied.set(id, commands);
        }

        const summary = history.summary();
        const present = new Set((applied.get(ids[0] as string) ?? []).map((command) => command.payload));
        const infoApplied = history.operations.filter((operation) => operation.outcome === "info" && present.has(operation.payload)).length;
        log(
          `summary: operations ${summary.operations}, ok ${summary.ok}, info ${summary.info} (${infoApplied} applied), failed ${summary.failed}, pending ${summary.pending}, ` +
            `elections ${finalTerm - firstTerm} (terms ${firstTerm}..${finalTerm}, ${summary.ackTerms} terms acknowledged), ` +
            `longest gap between acknowledgments ${Math.round(summary.longestAckGapMs)} ms, ` +
            `kill -> first new commit ${failoverMs.map((ms) => `${Math.round(ms)} ms`).join(", ")}, ` +
            `applied ${ids.map((id) => `${id}=${applied.get(id)?.length}`).join(" ")}`,
        );

        const violations = checkHistory(history.operations, applied);
        expect(violations, violations.map((violation) => `${violation.check}: ${violation.detail}`).join("\n")).toEqual([]);
        expect(summary.pending).toBe(0);
        expect(summary.ok).toBeGreaterThan(0);
      } catch (error) {
        stopping = true;
        console.log(`member log (last lines):\n${running.logLines.slice(-80).join("\n")}`);
        throw error;
      }
    },
    120_000,
  );
});
