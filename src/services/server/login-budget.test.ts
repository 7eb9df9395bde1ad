import { describe, expect, it } from "vitest";
import { LoginBudget, type LoginBudgetLimits } from "./login-budget.js";

const settings: LoginBudgetLimits = { failuresPerAddressMax: 3, failuresPerUserMax: 5, failureWindowMs: 60_000, backoffMinMs: 1000, backoffMaxMs: 8000, entriesMax: 100 };

function fail(budget: LoginBudget, times: number, address: string, user: string, atMs: number): void {
  for (let n = 0; n < times; n += 1) budget.failed(address, user, atMs);
}

describe("login budget", () => {
  it("checks every attempt within the budget, then backs the address off, doubling up to the max", () => {
    const budget = new LoginBudget(settings);
    fail(budget, 2, "10.0.0.1", "alice", 0);
    expect(budget.refusal("10.0.0.1", "alice", 0)).toBeNull();
    budget.failed("10.0.0.1", "alice", 0);
    expect(budget.refusal("10.0.0.1", "alice", 0)).toEqual({ scope: "address", retryAfterMs: 1000 });
    // Each failure after the budget doubles the wait.
    const waits: number[] = [];
    for (let atMs = 1000; waits.length < 5; ) {
      budget.failed("10.0.0.1", "alice", atMs);
      const refusal = budget.refusal("10.0.0.1", "alice", atMs);
      waits.push(refusal?.retryAfterMs ?? 0);
      atMs += refusal?.retryAfterMs ?? 0;
    }
    expect(waits).toEqual([2000, 4000, 8000, 8000, 8000]);
  });

  it("a backed-off address does not slow down another", () => {
    const budget = new LoginBudget(settings);
    fail(budget, 3, "10.0.0.1", "alice", 0);
    expect(budget.refusal("10.0.0.1", "bob", 0)?.scope).toBe("address");
    expect(budget.refusal("10.0.0.2", "bob", 0)).toBeNull();
  });

  it("a user's spent budget binds addresses that failed recently, never a clean one (no lockout of the real user)", () => {
    const budget = new LoginBudget(settings);
    // Five addresses guess alice's password once each: under their own budgets, over hers.
    for (let n = 1; n <= 5; n += 1) budget.failed(`10.0.1.${n}`, "alice", 0);
    expect(budget.refusal("10.0.1.1", "alice", 10)).toEqual({ scope: "user", retryAfterMs: 990 });
    expect(budget.refusal("10.0.1.1", "bob", 10)).toBeNull();
    expect(budget.refusal("192.168.7.7", "alice", 10)).toBeNull();
  });

  it("forgets failures after the window without one", () => {
    const budget = new LoginBudget(settings);
    fail(budget, 3, "10.0.0.1", "alice", 0);
    expect(budget.refusal("10.0.0.1", "alice", 60_001)).toBeNull();
    expect(budget.size).toBe(0);
    // A fresh budget: two more failures are not enough to back off again.
    fail(budget, 2, "10.0.0.1", "alice", 60_001);
    expect(budget.refusal("10.0.0.1", "alice", 60_001)).toBeNull();
  });

  it("remembers at most entriesMax addresses and users, forgetting the least recently failing", () => {
    const budget = new LoginBudget({ ...settings, entriesMax: 4 });
    fail(budget, 3, "10.0.0.1", "alice", 0);
    for (let n = 0; n < 10; n += 1) budget.failed(`10.0.2.${n}`, `user${n}`, 1);
    expect(budget.size).toBe(4);
    expect(budget.refusal("10.0.0.1", "alice", 2)).toBeNull();
  });
});
