/**
 * One round of each attack, shared by the tests here (which check what the server answered)
 * and `npm run bench -- adversarial` (which measures a real publisher's confirms meanwhile).
 * Every round is bounded: each wait has a deadline.
 */
import { limits } from "../../src/kernel/limits.js";
import { frameHeaderBytes } from "../../src/wire/frame.js";
import type { AdminAnswer, LoneServer } from "./lone-server.js";
import { sleep } from "./publish-loop.js";
import { RawClient } from "./raw-client.js";

/** A frame header announcing `payloadBytes` (the checksum is never reached). */
export function frameHeader(payloadBytes: number): Uint8Array {
  const bytes = new Uint8Array(frameHeaderBytes);
  new DataView(bytes.buffer).setUint32(0, payloadBytes);
  return bytes;
}

/**
 * Slowloris with large frames: `perSource` connections from each of `sources` announce a frame
 * of the largest size and send all of it but its last byte (stopping once the server closed
 * them). Resolves when every sender finished; the connections are left for the caller to close.
 */
export async function partialFrames(port: number, sources: readonly string[], perSource: number): Promise<RawClient[]> {
  const attackers: RawClient[] = [];
  for (const source of sources) attackers.push(...(await RawClient.openMany(port, perSource, source)));
  const payloadBytes = limits.frameBytesMax - frameHeaderBytes;
  await Promise.all(
    attackers.map(async (attacker) => {
      attacker.write(frameHeader(payloadBytes));
      await attacker.writeFiller(payloadBytes - 1);
    }),
  );
  return attackers;
}

/** `count` wrong hellos at once from `source`; the refusal code of each (undefined: none within 10 s). */
export async function wrongHellos(port: number, count: number, source: string, credentials: { app: string; user: string }): Promise<(string | undefined)[]> {
  const attackers = await RawClient.openMany(port, count, source);
  for (const attacker of attackers) attacker.hello({ ...credentials, password: "not-the-password" });
  await Promise.race([Promise.all(attackers.map((attacker) => attacker.closed())), sleep(10_000)]);
  for (const attacker of attackers) attacker.close();
  return attackers.map((attacker) => attacker.refusalCode);
}

/** `count` admin logins at once with a wrong password for `user`, from `localAddress` (default 127.0.0.1). */
export function wrongAdminLogins(server: LoneServer, path: string, count: number, user: string, localAddress?: string): Promise<AdminAnswer[]> {
  const guess = { user, password: "guess" };
  return Promise.all(Array.from({ length: count }, () => server.admin("GET", path, { credentials: guess, ...(localAddress ? { localAddress } : {}) })));
}
