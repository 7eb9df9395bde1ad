import { ratio, type Measurement } from "./measurement.js";

export interface GoalCheck {
  readonly goal: string;
  readonly met: boolean | null;
}

/** The goals of issue 4 on this machine, checked against one run's measurements. */
export function checkGoals(rows: readonly Measurement[]): GoalCheck[] {
  const row = (name: string): Measurement | undefined => rows.find((candidate) => candidate.name === name);
  const ratioAtLeast = (name: string, at: number): boolean | null => {
    const value = row(name);
    const r = value ? ratio(value) : null;
    return r === null ? null : r >= at;
  };
  const holdfastValue = (name: string): number | null => row(name)?.holdfast ?? null;
  const gap = holdfastValue("failover-r3.longest_ack_gap");
  const lost = holdfastValue("failover-r3.lost");
  const duplicated = holdfastValue("failover-r3.duplicated");
  const both = (a: boolean | null, b: boolean | null): boolean | null => (a === null || b === null ? null : a && b);
  return [
    { goal: "publish-r3 at least 3x NATS (quorum-fsync), p99 at or below NATS's", met: both(ratioAtLeast("publish-r3.throughput.quorum-fsync", 3), ratioAtLeast("publish-r3.p99.quorum-fsync", 1)) },
    { goal: "publish-r3 at least 3x NATS (quorum-memory), p99 at or below NATS's", met: both(ratioAtLeast("publish-r3.throughput.quorum-memory", 3), ratioAtLeast("publish-r3.p99.quorum-memory", 1)) },
    { goal: "publish-r3-sync p50 at or below NATS's with quorum-memory", met: ratioAtLeast("publish-r3-sync.p50.quorum-memory", 1) },
    { goal: "consume-r3 at least 2x NATS", met: ratioAtLeast("consume-r3.throughput", 2) },
    { goal: "failover gap under 1 s, 0 lost, 0 duplicated", met: gap === null || lost === null || duplicated === null ? null : gap < 1000 && lost === 0 && duplicated === 0 },
    { goal: "peak RSS per server at most 1.5x NATS's (quorum-fsync)", met: ratioAtLeast("publish-r3.peak_rss_per_server_max.quorum-fsync", 1 / 1.5) },
  ];
}

export function formatGoals(goals: readonly GoalCheck[]): string {
  return goals.map((goal) => `- ${goal.goal}: ${goal.met === null ? "not measured" : goal.met ? "met" : "**not met**"}`).join("\n");
}
