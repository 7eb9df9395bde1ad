/**
 * The fuzz's one check, for a session over a fake connection and a live one alike: a hostile
 * request is answered as its decoding says (an error with the decoder's code, a closing when
 * the frame is not a msgpack map, an answer when it decodes and its type answers), nothing
 * fails with `internal`, and a probe sent after it is still answered.
 */
import { Packr } from "msgpackr";
import { expect } from "vitest";
import { decodeSessionRequest, type SessionResponse } from "../../src/wire/session-codec.js";
import { answeredTypes } from "./hostile-requests.js";

const packr = new Packr({ useRecords: false });

/** One end of a client-port session, as a test drives it. */
export interface Peer {
  readonly received: readonly SessionResponse[];
  readonly closeReason: string | null;
  send(payload: Uint8Array): void;
}

export interface CheckOptions {
  /** False before hello: a request other than hello is refused and the session closed. */
  readonly authenticated: boolean;
  /** Waits (bounded) until `done` holds or the session closed. */
  readonly until: (done: () => boolean) => Promise<void>;
}

export const closingOf = (peer: Peer): Extract<SessionResponse, { type: "closing" }> | undefined =>
  peer.received.find((response): response is Extract<SessionResponse, { type: "closing" }> => response.type === "closing");

/** The answer to `requestId` among the responses from index `from` on. */
export function answerTo(peer: Peer, requestId: number, from = 0): SessionResponse | undefined {
  return peer.received.slice(from).find((response) => "requestId" in response && response.requestId === requestId);
}

export async function sendChecked(peer: Peer, bytes: Uint8Array, probeId: number, options: CheckOptions): Promise<void> {
  const decoded = decodeSessionRequest(bytes);
  const before = peer.received.length;
  const fresh = (requestId: number): SessionResponse | undefined => answerTo(peer, requestId, before);
  peer.send(bytes);
  peer.send(packr.pack({ type: "ping", requestId: probeId }));
  // A request numbers its own answer; ack with requestId 0 and the fire-and-forget types have none.
  const answerId = decoded.ok ? ("requestId" in decoded.value ? decoded.value.requestId : 0) : decoded.requestId;
  const answers = answerId >= 1 && (!decoded.ok || answeredTypes.has(decoded.value.type));
  await options.until(() => fresh(probeId) !== undefined && (!answers || fresh(answerId) !== undefined));
  const context = describeExchange(bytes, peer.received.slice(before));
  const internal = peer.received.filter((response) => (response.type === "error" || response.type === "closing") && response.code === "internal");
  expect(internal, context).toEqual([]);
  if (!decoded.ok && decoded.fatal) return void expect(closingOf(peer), context).toMatchObject({ code: "malformed" });
  if (!decoded.ok) {
    if (answers) expect(fresh(answerId), context).toMatchObject({ type: "error", code: decoded.code });
  } else if (!options.authenticated && decoded.value.type !== "hello") {
    return void expect(closingOf(peer), context).toBeDefined();
  } else if (answers) {
    expect(fresh(answerId) ?? closingOf(peer), context).toBeDefined();
  }
  if (peer.closeReason === null) expect(fresh(probeId), context).toEqual({ type: "ok", requestId: probeId });
}

/** The request's first bytes and what came back, for a failing run's message. */
function describeExchange(bytes: Uint8Array, responses: readonly SessionResponse[]): string {
  const shown = JSON.stringify(responses.slice(0, 6), (_key, value: unknown) => (typeof value === "bigint" ? `${value}n` : value));
  return `request ${Buffer.from(bytes.subarray(0, 160)).toString("hex")}; received ${shown}`;
}
