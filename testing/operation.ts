/**
 * Jepsen-style history records shared by the simulator and the real-process tests: what
 * became of one client operation. `info` means the outcome is unknown (it may or may not have
 * taken effect); `fail` means it definitely did not.
 */
export type Outcome = "pending" | "ok" | "fail" | "info";

/** The part of an operation filled in when it completes. */
export interface Completion {
  outcome: Outcome;
  completedAtMs: number | null;
  /** Log index the operation was acknowledged (or answered) at. */
  index: number | null;
  term: number | null;
  detail: string;
}
