import { describe, expect, it } from "vitest";
import { hashPassword, parseScryptHash, verifyPassword } from "./passwords.js";

/** Cheap parameters: these tests check the format and comparison, not the cost. */
const testCost = { N: 1024, r: 8, p: 1 };

describe("passwords", () => {
  it("a hash verifies its own password and no other", async () => {
    const stored = await hashPassword("correct horse", testCost);
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct horsf", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("two hashes of one password differ (random salt)", async () => {
    expect(await hashPassword("same", testCost)).not.toBe(await hashPassword("same", testCost));
  });

  it("the default cost verifies the demo user's stored hash", async () => {
    const demoHash = "scrypt$32768$8$3$egShh9SXVd1aG8JBrTG+ng==$neZ/uykzU941tJcd3uzBrBBuHqU1Tp5ZCLQn/i3sMbc=";
    expect(await verifyPassword("demo-password", demoHash)).toBe(true);
    expect(await verifyPassword("demo-passw0rd", demoHash)).toBe(false);
  });

  it("a malformed or too costly stored value verifies nothing", async () => {
    expect(await verifyPassword("x", "x")).toBe(false);
    expect(parseScryptHash("scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==")).toEqual({ problem: expect.stringContaining("power of two") });
    expect(parseScryptHash(`scrypt$${2 ** 30}$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==`)).toEqual({ problem: expect.stringContaining("power of two") });
    expect(parseScryptHash("scrypt$1024$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==")).toMatchObject({ N: 1024, r: 8, p: 1 });
  });
});
