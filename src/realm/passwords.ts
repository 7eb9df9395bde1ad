/**
 * Password hashes for realm users: `scrypt$N$r$p$salt$hash`, salt and hash in base64.
 * The definition holds only hashes, so a leaked realm file does not leak passwords.
 */
import { limits } from "../kernel/limits.js";
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * Cost of new hashes: one of OWASP's equivalent scrypt minimums (N=2^15, r=8, p=3), chosen
 * over N=2^17 p=1 because it needs 32 MiB per login instead of 128 MiB.
 */
export const scryptCostNew = { N: 2 ** 15, r: 8, p: 3 } as const;

/**
 * Bounds on parameters read from a definition: a hostile or mistyped file must not make a
 * server allocate gigabytes or spin for minutes on each login.
 */
export const { scryptNMax, scryptRMax, scryptPMax } = limits;
const saltBytes = 16;
const hashBytes = 32;

export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads `scrypt$N$r$p$salt$hash`; returns why not when it cannot (the reason completes
 * "expected …"), never echoing the text, which may be a password pasted by mistake.
 */
export function parseScryptHash(stored: string): ScryptHash | { problem: string } {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") {
    return { problem: "a scrypt hash scrypt$N$r$p$salt$hash (made by hashPassword)" };
  }
  const [, nText, rText, pText, saltText, hashText] = parts as [string, string, string, string, string, string];
  const N = parseDecimal(nText);
  const r = parseDecimal(rText);
  const p = parseDecimal(pText);
  if (N === undefined || N < 2 || N > scryptNMax || (N & (N - 1)) !== 0) {
    return { problem: `a scrypt N that is a power of two from 2 to ${scryptNMax}` };
  }
  if (r === undefined || r < 1 || r > scryptRMax) return { problem: `a scrypt r from 1 to ${scryptRMax}` };
  if (p === undefined || p < 1 || p > scryptPMax) return { problem: `a scrypt p from 1 to ${scryptPMax}` };
  if (!base64Pattern.test(saltText) || !base64Pattern.test(hashText)) {
    return { problem: "a base64 salt and hash in the scrypt hash" };
  }
  const salt = Buffer.from(saltText, "base64");
  const hash = Buffer.from(hashText, "base64");
  if (salt.length < 8 || hash.length < 16) return { problem: "a scrypt salt of at least 8 bytes and hash of at least 16" };
  return { N, r, p, salt, hash };
}

export async function hashPassword(plain: string, cost: { N: number; r: number; p: number } = scryptCostNew): Promise<string> {
  const salt = randomBytes(saltBytes);
  const hash = await derive(plain, salt, hashBytes, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/**
 * False for a wrong password and for a stored value that is not a valid hash. Runs on libuv's
 * pool: servers check logins through their own worker pool instead (services/server/password-checks.ts).
 */
export async function verifyPassword(plain: string, stored: string): Promise<boolean> {
  const parsed = parseScryptHash(stored);
  if ("problem" in parsed) return false;
  const candidate = await derive(plain, parsed.salt, parsed.hash.length, parsed);
  return timingSafeEqual(candidate, parsed.hash);
}

/** What scrypt is given: NFC, so a password typed on another system's keyboard still matches. */
export function normalizePassword(plain: string): string {
  return plain.normalize("NFC");
}

/** scrypt needs about 128 * N * r bytes; the default maxmem (32 MiB) is too small at N=2^18. */
export function scryptMaxmemBytes(cost: { N: number; r: number }): number {
  return 256 * cost.N * cost.r + 1024 * 1024;
}

function derive(plain: string, salt: Buffer, length: number, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: cost.N, r: cost.r, p: cost.p, maxmem: scryptMaxmemBytes(cost) };
  return new Promise((resolve, reject) => {
    scrypt(normalizePassword(plain), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function parseDecimal(text: string): number | undefined {
  return /^[0-9]{1,10}$/.test(text) ? Number(text) : undefined;
}
