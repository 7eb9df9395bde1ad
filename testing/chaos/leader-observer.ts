import type { Violation } from "./chaos-checker.js";
import type { ChaosCluster } from "./chaos-cluster.js";

/** How often the observer asks every server for its status. */
const observeIntervalMs = 250;

/**
 * Polls every server's admin status through the run and remembers which service said it led
 * which term. Two leaders of one term is a violation (`one-leader-per-term`) however briefly
 * it lasted. Polling sees only a sample, so this can miss a violation, never invent one.
 */
export class LeaderObserver {
  private readonly leaders = new Map<number, Set<string>>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  polls = 0;

  constructor(private readonly cluster: ChaosCluster) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const statuses = await this.cluster.statuses();
        this.polls += 1;
        for (const status of statuses.values()) {
          if (status?.role !== "leader") continue;
          const services = this.leaders.get(status.term) ?? new Set<string>();
          services.add(status.service);
          this.leaders.set(status.term, services);
        }
        await new Promise((resolve) => setTimeout(resolve, observeIntervalMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Terms seen with a leader, and the violations. */
  check(): { terms: number; violations: Violation[] } {
    const violations: Violation[] = [];
    for (const [term, services] of this.leaders) {
      if (services.size > 1) violations.push({ check: "one-leader-per-term", detail: `term ${term} led by ${[...services].join(" and ")}` });
    }
    return { terms: this.leaders.size, violations };
  }
}
