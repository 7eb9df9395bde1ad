/** What the tenure reads of one service's admin status (ServiceStatus has these fields). */
export interface TenureView {
  readonly service: string;
  readonly role: string;
  readonly term: number;
  readonly consistency: unknown;
  readonly commitIndex: number;
}

export interface Tenure {
  readonly service: string;
  readonly term: number;
  /** When the first poll of this tenure saw it. */
  readonly sinceMs: number;
}

/**
 * Whether one leader keeps its term, from polls of every service's status (pure: the caller
 * polls and passes the time). A leader counts once it is up to date with a commit in its term
 * (as RealmCluster.waitForLeader); a tenure lasts while every poll shows that service leading
 * that term (a leader of an older term that has not heard yet is ignored). It ends when a poll
 * shows another leader, a newer term, no such leader, or cannot reach it: a leader that steps
 * down within milliseconds, again and again, never keeps one.
 */
export class LeaderTenure {
  private current: Tenure | null = null;
  private readonly terms = new Set<number>();
  private tenures = 0;

  observe(atMs: number, views: readonly (TenureView | null)[]): void {
    for (const view of views) if (view !== null) this.terms.add(view.term);
    const leaders = views.filter((view): view is TenureView => view !== null && view.role === "leader" && view.consistency === "up-to-date" && view.commitIndex > 0);
    const newest = leaders.reduce<TenureView | null>((best, view) => (best === null || view.term > best.term ? view : best), null);
    if (newest === null) {
      this.current = null;
      return;
    }
    if (this.current?.service === newest.service && this.current.term === newest.term) return;
    this.current = { service: newest.service, term: newest.term, sinceMs: atMs };
    this.tenures += 1;
  }

  /** The tenure that lasted `keptMs` by `atMs`, if there is one. */
  kept(atMs: number, keptMs: number): Tenure | null {
    return this.current !== null && atMs - this.current.sinceMs >= keptMs ? this.current : null;
  }

  /** For the report: the terms seen and how many tenures began. */
  describe(): string {
    const terms = [...this.terms].sort((a, b) => a - b);
    const range = terms.length === 0 ? "no term seen" : `terms ${terms[0]}..${terms[terms.length - 1]} (${terms.length} seen)`;
    return `${range}, ${this.tenures} leader tenures began${this.current ? `, the last ${this.current.service} in term ${this.current.term}` : ""}`;
  }
}
