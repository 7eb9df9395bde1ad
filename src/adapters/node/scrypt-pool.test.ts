import { randomBytes, scryptSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ScryptPool, type ScryptJob } from "./scrypt-pool.js";

const job = (plain: string): ScryptJob => ({ plain, salt: randomBytes(16), keyBytes: 32, N: 2 ** 10, r: 8, p: 1, maxmemBytes: 32 * 1024 * 1024 });

let pool: ScryptPool | undefined;
afterEach(async () => {
  await pool?.close();
});

describe("scrypt pool", () => {
  it("derives the same key as scrypt in this thread", async () => {
    pool = new ScryptPool({ workers: 2, queuedMax: 4 });
    const jobs = Array.from({ length: 5 }, (_, n) => job(`password ${n}`));
    const keys = await Promise.all(jobs.map((each) => pool?.derive(each)));
    expect(keys.map((key) => Buffer.from(key as Uint8Array))).toEqual(jobs.map((each) => scryptSync(each.plain, each.salt, 32, { N: each.N, r: each.r, p: each.p })));
  });

  it("refuses a job at once when every worker is busy and the queue is full", async () => {
    pool = new ScryptPool({ workers: 1, queuedMax: 2 });
    const accepted = [pool.derive(job("a")), pool.derive(job("b")), pool.derive(job("c"))];
    expect(accepted.every((promise) => promise !== null)).toBe(true);
    expect(pool.derive(job("d"))).toBeNull();
    await Promise.all(accepted);
    // Room again once they finished.
    expect(await pool.derive(job("e"))).toHaveLength(32);
  });

  it("fails a job whose cost scrypt refuses, and keeps working", async () => {
    pool = new ScryptPool({ workers: 1, queuedMax: 1 });
    await expect(pool.derive({ ...job("x"), maxmemBytes: 1024 })).rejects.toThrow(/scrypt failed/);
    expect(await pool.derive(job("y"))).toHaveLength(32);
  });
});
