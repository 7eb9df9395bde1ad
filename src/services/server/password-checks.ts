import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ScryptPool } from "../../adapters/node/scrypt-pool.js";
import { availableParallelism } from "node:os";
import { limits } from "../../kernel/limits.js";
import { normalizePassword, parseScryptHash, scryptCostNew, scryptMaxmemBytes } from "../../realm/passwords.js";
import { LoginBudget, loginBudgetDefaults, type LoginBudgetLimits } from "./login-budget.js";

export type PasswordCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: "unauthenticated"; readonly message: string }
  /** `scope`: whether this source (too many of its checks at once) or the whole server is over its bound. */
  | { readonly ok: false; readonly code: "backed-off" | "busy"; readonly scope: "source" | "server"; readonly message: string; readonly retryAfterMs: number };

export interface PasswordChecksOptions {
  readonly workers?: number;
  readonly queuedMax?: number;
  readonly perAddressMax?: number;
  readonly budget?: LoginBudgetLimits;
  readonly nowMs?: () => number;
}

const seconds = (ms: number): string => `${Math.ceil(ms / 1000)} s`;

/**
 * Every password check of one server (client hellos and admin logins), kept across realm
 * revisions: a per-address and per-user budget of failures (login-budget.ts), a cache of
 * successful checks, and scrypt in a bounded pool of worker threads of our own. In order:
 *
 *   1. a backed-off source is refused (`backed-off`, with when to retry), without a check,
 *      even for a password that would match: else the cache would answer guesses cheaply;
 *   2. a password that matched recently is accepted from the cache (no scrypt);
 *   3. past passwordChecksPerAddressMax checks from one address, or with the pool's queue
 *      full, the login is refused (`busy`, with when to retry) instead of waiting without end;
 *   4. scrypt runs in a worker; a mismatch is charged to the address and the user name.
 *
 * The caller passes a dummy hash of the realm's usual cost for an unknown user (dummyHashLike),
 * so an unknown name takes the same path and time as a wrong password.
 */
export class PasswordChecks {
  private readonly pool: ScryptPool;
  private readonly budget: LoginBudget;
  private readonly verified = new Set<string>();
  private readonly inFlight = new Map<string, number>();
  private readonly perAddressMax: number;
  private readonly queuedMax: number;
  private readonly nowMs: () => number;

  constructor(options: PasswordChecksOptions = {}) {
    this.queuedMax = options.queuedMax ?? limits.passwordChecksQueuedMax;
    this.pool = new ScryptPool({ workers: options.workers ?? passwordCheckWorkers(), queuedMax: this.queuedMax });
    this.budget = new LoginBudget(options.budget ?? loginBudgetDefaults);
    this.perAddressMax = options.perAddressMax ?? limits.passwordChecksPerAddressMax;
    this.nowMs = options.nowMs ?? Date.now;
  }

  async check(source: string, user: string, stored: string, plain: string): Promise<PasswordCheck> {
    const refusal = this.budget.refusal(source, user, this.nowMs());
    if (refusal !== null) {
      const which = refusal.scope === "address" ? `from ${source}` : `for user "${user}" from addresses that failed recently, ${source} among them`;
      const message = `too many failed logins ${which}; try again in ${seconds(refusal.retryAfterMs)}`;
      return { ok: false, code: "backed-off", scope: "source", message, retryAfterMs: refusal.retryAfterMs };
    }
    const digest = createHash("sha256").update(`${user}\u0000${stored}\u0000${plain}`).digest("base64");
    if (this.verified.has(digest)) return { ok: true };
    const parsed = parseScryptHash(stored);
    const running = this.inFlight.get(source) ?? 0;
    if (running >= this.perAddressMax) return this.busy("source", `${running} password checks from ${source} are running already`);
    // A stored value that is not a hash (the loader refuses those) still costs a check.
    const target = "problem" in parsed ? { ...scryptCostNew, salt: randomBytes(16), hash: randomBytes(32) } : parsed;
    const { salt, hash, N, r, p } = target;
    const derived = this.pool.derive({ plain: normalizePassword(plain), salt, keyBytes: hash.length, N, r, p, maxmemBytes: scryptMaxmemBytes(target) });
    if (derived === null) return this.busy("server", `the server is checking as many passwords as it can queue (${this.queuedMax} waiting)`);
    this.inFlight.set(source, running + 1);
    let key: Uint8Array;
    try {
      key = await derived;
    } catch (error) {
      return this.busy("server", `the password check failed (${(error as Error).message})`);
    } finally {
      const left = (this.inFlight.get(source) ?? 1) - 1;
      if (left > 0) this.inFlight.set(source, left);
      else this.inFlight.delete(source);
    }
    if ("problem" in parsed || !timingSafeEqual(key, target.hash)) {
      this.budget.failed(source, user, this.nowMs());
      return { ok: false, code: "unauthenticated", message: `wrong user name or password for user "${user}"` };
    }
    if (this.verified.size >= limits.verifiedPasswordsCachedMax) this.verified.clear();
    this.verified.add(digest);
    return { ok: true };
  }

  /** Stops the workers (the server is stopping). */
  close(): Promise<void> {
    return this.pool.close();
  }

  private busy(scope: "source" | "server", why: string): PasswordCheck {
    const retryAfterMs = limits.passwordBusyRetryAfterMs;
    return { ok: false, code: "busy", scope, message: `${why}; try again in ${seconds(retryAfterMs)}`, retryAfterMs };
  }
}

/**
 * A hash no password matches (random salt and hash) at the cost most of `stored` use (the
 * production cost when there are none): what an unknown user's password is checked against.
 */
export function dummyHashLike(stored: readonly string[]): string {
  const costs = new Map<string, number>();
  for (const text of stored) {
    const parsed = parseScryptHash(text);
    if ("problem" in parsed) continue;
    const key = `${parsed.N}$${parsed.r}$${parsed.p}`;
    costs.set(key, (costs.get(key) ?? 0) + 1);
  }
  const usual = [...costs].sort((a, b) => b[1] - a[1])[0]?.[0] ?? `${scryptCostNew.N}$${scryptCostNew.r}$${scryptCostNew.p}`;
  return `scrypt$${usual}$${randomBytes(16).toString("base64")}$${randomBytes(32).toString("base64")}`;
}

/**
 * Workers for password checks on this machine: one fewer than its cores, so a flood of logins
 * leaves a core to the event loop (bench adversarial: on two cores, two workers running flat
 * out put the wrong-password flood's confirm p99 at 5x the baseline), at most
 * passwordCheckWorkersMax, at least one.
 */
export function passwordCheckWorkers(): number {
  return Math.max(1, Math.min(limits.passwordCheckWorkersMax, availableParallelism() - 1));
}
