import { afterEach, describe, expect, it } from "vitest";
import { hashPassword, parseScryptHash } from "../../realm/passwords.js";
import type { LoginBudgetLimits } from "./login-budget.js";
import { dummyHashLike, PasswordChecks } from "./password-checks.js";

const cheap = { N: 2 ** 10, r: 8, p: 1 } as const;
const budget: LoginBudgetLimits = { failuresPerAddressMax: 3, failuresPerUserMax: 100, failureWindowMs: 60_000, backoffMinMs: 1000, backoffMaxMs: 8000, entriesMax: 100 };
let checks: PasswordChecks | undefined;

afterEach(async () => {
  await checks?.close();
});

describe("password checks", () => {
  it("an unknown user (checked against the dummy) fails exactly like a wrong password, and is charged the same", async () => {
    const stored = await hashPassword("right", cheap);
    const dummy = dummyHashLike([stored]);
    checks = new PasswordChecks({ workers: 1, queuedMax: 8, perAddressMax: 8, budget, nowMs: () => 0 });
    const wrong = [];
    const unknown = [];
    for (let n = 0; n < 3; n += 1) wrong.push(await checks.check("10.0.0.1", "alice", stored, "guess"));
    for (let n = 0; n < 3; n += 1) unknown.push(await checks.check("10.0.0.2", "nobody", dummy, "guess"));
    expect(wrong.map((check) => check.ok || check.code)).toEqual(["unauthenticated", "unauthenticated", "unauthenticated"]);
    expect(unknown.map((check) => check.ok || check.code)).toEqual(["unauthenticated", "unauthenticated", "unauthenticated"]);
    expect(await checks.check("10.0.0.1", "alice", stored, "guess")).toMatchObject({ code: "backed-off", scope: "source", retryAfterMs: 1000 });
    expect(await checks.check("10.0.0.2", "nobody", dummy, "guess")).toMatchObject({ code: "backed-off", scope: "source", retryAfterMs: 1000 });
  });

  it("a backed-off address is refused even with the right password, cached or not (no cheap guessing through the cache)", async () => {
    const stored = await hashPassword("right", cheap);
    checks = new PasswordChecks({ workers: 1, queuedMax: 8, perAddressMax: 8, budget, nowMs: () => 0 });
    expect(await checks.check("10.0.0.1", "alice", stored, "right")).toEqual({ ok: true });
    for (let n = 0; n < 3; n += 1) await checks.check("10.0.0.1", "alice", stored, "guess");
    expect(await checks.check("10.0.0.1", "alice", stored, "right")).toMatchObject({ ok: false, code: "backed-off" });
    expect(await checks.check("10.0.0.9", "alice", stored, "right")).toEqual({ ok: true });
  });

  it("refuses with busy, at once, past the checks one address may have running and past the pool's queue", async () => {
    const stored = await hashPassword("right", cheap);
    checks = new PasswordChecks({ workers: 1, queuedMax: 2, perAddressMax: 2, budget: { ...budget, failuresPerAddressMax: 100 }, nowMs: () => 0 });
    const first = [checks.check("10.0.0.1", "alice", stored, "a"), checks.check("10.0.0.1", "alice", stored, "b")];
    expect(await checks.check("10.0.0.1", "alice", stored, "c")).toMatchObject({ code: "busy", scope: "source", retryAfterMs: 1000 });
    const second = checks.check("10.0.0.2", "alice", stored, "d");
    expect(await checks.check("10.0.0.3", "alice", stored, "e")).toMatchObject({ code: "busy", scope: "server" });
    expect((await Promise.all([...first, second])).map((check) => check.ok || check.code)).toEqual(["unauthenticated", "unauthenticated", "unauthenticated"]);
  });

  it("the dummy hash has the cost most users have", async () => {
    const usual = await hashPassword("x", cheap);
    const other = await hashPassword("y", { N: 2 ** 11, r: 8, p: 1 });
    expect(parseScryptHash(dummyHashLike([other, usual, usual]))).toMatchObject(cheap);
    expect(parseScryptHash(dummyHashLike([]))).toMatchObject({ N: 2 ** 15, r: 8, p: 3 });
  });
});
