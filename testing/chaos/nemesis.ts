import type { Prng } from "../../src/kernel/prng.js";
import type { ChaosCluster } from "./chaos-cluster.js";
import { flipLogBit, truncateLogTail } from "./disk-faults.js";

/** Every fault the nemesis knows; the seed orders them (see `faultSchedule`). */
export const faultKinds = [
  "kill-leader",
  "kill-follower",
  "kill-all",
  "pause-leader",
  "partition-minority",
  "partition-leader",
  "truncate-tail",
  "flip-bit",
  "slow-follower",
  // Two faults at once where the guarantee's wording ("a majority keeps its disk") still
  // holds: finding 2 in README.md, which failed until a cut WAL tail made a member empty.
  "lose-synced-tail",
] as const;
export type FaultKind = (typeof faultKinds)[number];

/** How long faults last, in ms ([min, max], drawn from the seed). */
export const faultTiming = {
  /** A killed server stays down this long before its restart. */
  downMs: [500, 3000],
  /** SIGSTOP of the leader: well past its lease (limits.leaderLeaseMs, 240 ms) and the election timeout. */
  pauseMs: [1000, 4000],
  partitionMs: [2000, 5000],
  slowMs: [3000, 6000],
  /** Delay on each link of a slow follower, each direction. */
  linkDelayMs: [50, 400],
  /** Quiet time between one fault's recovery and the next fault. */
  quietMs: [500, 1500],
} as const satisfies Record<string, readonly [number, number]>;

/** Each kind `rounds` times, in an order the seed picks (so every run covers every kind). */
export function faultSchedule(random: Prng, rounds: number): FaultKind[] {
  const schedule: FaultKind[] = [];
  for (let round = 0; round < rounds; round++) schedule.push(...faultKinds);
  for (let at = schedule.length - 1; at > 0; at--) {
    const other = random.int(0, at);
    [schedule[at], schedule[other]] = [schedule[other] as FaultKind, schedule[at] as FaultKind];
  }
  return schedule;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Injects one fault and undoes it (restart, SIGCONT, heal); returns a line saying what it did.
 * Whom it strikes (the leader, a follower) is read from the cluster at that moment; every
 * duration and choice comes from `random`, so a seed replays the same schedule.
 */
export async function injectFault(kind: FaultKind, cluster: ChaosCluster, random: Prng, leaderTimeoutMs: number): Promise<string> {
  const draw = (range: readonly [number, number]): number => random.int(range[0], range[1]);
  const leader = await cluster.leader(leaderTimeoutMs);
  const followers = cluster.servers.filter((server) => server !== leader);
  const follower = random.pick(followers);
  const anyone = random.pick(cluster.servers);
  switch (kind) {
    case "kill-leader":
    case "kill-follower": {
      const victim = kind === "kill-leader" ? leader : follower;
      const downMs = draw(faultTiming.downMs);
      await cluster.kill(victim);
      await sleep(downMs);
      await cluster.restart(victim);
      return `kill -9 ${victim} (${kind === "kill-leader" ? "leader" : "follower"}), down ${downMs} ms`;
    }
    case "kill-all": {
      const downMs = draw(faultTiming.downMs);
      await Promise.all(cluster.servers.map((server) => cluster.kill(server)));
      await sleep(downMs);
      for (const server of cluster.servers) await cluster.restart(server);
      return `kill -9 of every server at once (leader ${leader}), down ${downMs} ms`;
    }
    case "pause-leader": {
      const pauseMs = draw(faultTiming.pauseMs);
      cluster.pause(leader);
      await sleep(pauseMs);
      cluster.resume(leader);
      return `SIGSTOP ${leader} (leader, pid ${cluster.pid(leader) ?? "?"}) for ${pauseMs} ms, then SIGCONT`;
    }
    case "partition-minority":
    case "partition-leader": {
      const cut = kind === "partition-leader" ? leader : follower;
      const partitionMs = draw(faultTiming.partitionMs);
      await cluster.mesh.isolate(cut);
      const links = cluster.mesh.describe();
      await sleep(partitionMs);
      await cluster.mesh.heal();
      return `partition {${cut}} | {${cluster.servers.filter((server) => server !== cut).join(", ")}} (${kind === "partition-leader" ? "the leader cut from its peers, not its clients" : "a follower in the minority"}) for ${partitionMs} ms [${links}]`;
    }
    case "truncate-tail":
    case "flip-bit": {
      const downMs = draw(faultTiming.downMs);
      await cluster.kill(anyone);
      const damage = kind === "truncate-tail" ? truncateLogTail(cluster.walDirectory(anyone), random) : flipLogBit(cluster.walDirectory(anyone), random);
      await sleep(downMs);
      await cluster.restart(anyone);
      return `kill -9 ${anyone} (${anyone === leader ? "leader" : "follower"}), ${kind === "truncate-tail" ? "truncated log tail" : "flipped bit"}: ${damage}, down ${downMs} ms`;
    }
    case "lose-synced-tail": {
      // The other follower lags (slow links), so commits are the leader's and `follower`'s;
      // both crash at once, `follower` loses the synced tail of its WAL and comes back first.
      const lagger = followers.find((server) => server !== follower) ?? follower;
      const delayMs = draw(faultTiming.linkDelayMs);
      const downMs = draw(faultTiming.downMs);
      await cluster.mesh.slow(lagger, delayMs);
      await sleep(1000);
      await Promise.all([cluster.kill(leader), cluster.kill(follower)]);
      // Up to 64 KiB: past the unsynced end (group commit), into records the leader counted.
      const damage = truncateLogTail(cluster.walDirectory(follower), random, 65_536);
      await cluster.mesh.heal();
      await cluster.restart(follower);
      await sleep(downMs);
      await cluster.restart(leader);
      return `${lagger} lagging (+${delayMs} ms links), kill -9 ${leader} (leader) and ${follower} (follower) at once, truncated ${follower}'s log tail: ${damage}; ${follower} restarted, ${leader} ${downMs} ms later`;
    }
    case "slow-follower": {
      const slowMs = draw(faultTiming.slowMs);
      const delayMs = draw(faultTiming.linkDelayMs);
      await cluster.mesh.slow(follower, delayMs);
      await sleep(slowMs);
      await cluster.mesh.heal();
      return `slow follower ${follower}: +${delayMs} ms on each of its links for ${slowMs} ms`;
    }
  }
}

/** The quiet time before the next fault. */
export function quietMs(random: Prng): number {
  return random.int(faultTiming.quietMs[0], faultTiming.quietMs[1]);
}
