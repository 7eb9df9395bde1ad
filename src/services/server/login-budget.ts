import { limits } from "../../kernel/limits.js";

export interface LoginBudgetLimits {
  readonly failuresPerAddressMax: number;
  readonly failuresPerUserMax: number;
  readonly failureWindowMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly entriesMax: number;
}

export const loginBudgetDefaults: LoginBudgetLimits = {
  failuresPerAddressMax: limits.loginFailuresPerAddressMax,
  failuresPerUserMax: limits.loginFailuresPerUserMax,
  failureWindowMs: limits.loginFailureWindowMs,
  backoffMinMs: limits.loginBackoffMinMs,
  backoffMaxMs: limits.loginBackoffMaxMs,
  entriesMax: limits.loginBudgetEntriesMax,
};

/** Why a login is refused before its password is checked, and when to try again. */
export interface BudgetRefusal {
  readonly scope: "address" | "user";
  readonly retryAfterMs: number;
}

interface Failures {
  count: number;
  lastMs: number;
  /** Refused without a check until then. */
  blockedUntilMs: number;
}

/**
 * Budgets of failed logins, per source address and per user name. Within a budget every
 * attempt is checked; the failure that spends it backs the source off for backoffMinMs, and
 * each further failure doubles that (up to backoffMaxMs). A backed-off attempt is refused
 * without a password check, so it costs no scrypt. Failures are forgotten after
 * failureWindowMs without a new one.
 *
 * A user's budget binds only addresses that failed recently themselves: a flood of wrong
 * passwords for "admin" from some addresses slows those addresses down and never locks the
 * real admin out from another. A successful login resets nothing (an attacker with one good
 * account must not refill its budget for guessing others).
 *
 * Pure (time is an argument) and bounded: past entriesMax, the least recently failing entry
 * is forgotten first.
 */
export class LoginBudget {
  private readonly entries = new Map<string, Failures>();

  constructor(private readonly settings: LoginBudgetLimits = loginBudgetDefaults) {}

  /** Entries remembered now (for tests and status). */
  get size(): number {
    return this.entries.size;
  }

  refusal(address: string, user: string, nowMs: number): BudgetRefusal | null {
    const byAddress = this.current(`address ${address}`, nowMs);
    if (byAddress !== undefined && nowMs < byAddress.blockedUntilMs) return { scope: "address", retryAfterMs: byAddress.blockedUntilMs - nowMs };
    const byUser = this.current(`user ${user}`, nowMs);
    if (byUser !== undefined && byAddress !== undefined && nowMs < byUser.blockedUntilMs) return { scope: "user", retryAfterMs: byUser.blockedUntilMs - nowMs };
    return null;
  }

  failed(address: string, user: string, nowMs: number): void {
    this.charge(`address ${address}`, this.settings.failuresPerAddressMax, nowMs);
    this.charge(`user ${user}`, this.settings.failuresPerUserMax, nowMs);
  }

  private current(key: string, nowMs: number): Failures | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (nowMs - entry.lastMs > this.settings.failureWindowMs && nowMs >= entry.blockedUntilMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private charge(key: string, budget: number, nowMs: number): void {
    const entry = this.current(key, nowMs) ?? { count: 0, lastMs: nowMs, blockedUntilMs: 0 };
    entry.count += 1;
    entry.lastMs = nowMs;
    const over = entry.count - budget;
    if (over >= 0) {
      const backoffMs = Math.min(this.settings.backoffMinMs * 2 ** Math.min(over, 30), this.settings.backoffMaxMs);
      entry.blockedUntilMs = Math.max(entry.blockedUntilMs, nowMs + backoffMs);
    }
    // Most recently failing last: the first entry is the one to forget.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.settings.entriesMax) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
