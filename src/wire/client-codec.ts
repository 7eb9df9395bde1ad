import { Packr } from "msgpackr";
import type { MemberStatus } from "../protocols/consensus/types.js";

/**
 * The client protocol of a consensus member (frames carry one message each, msgpack arrays).
 * Proposals travel in batches: one frame carries many, one answer frame settles many.
 */
export type ClientRequest =
  | { readonly type: "propose"; readonly requestIds: readonly number[]; readonly payloads: readonly Uint8Array[] }
  | { readonly type: "status"; readonly requestId: number }
  | { readonly type: "applied"; readonly requestId: number; readonly fromIndex: number; readonly countMax: number }
  | { readonly type: "transfer"; readonly requestId: number; readonly to: string | null }
  | { readonly type: "force-quorum"; readonly requestId: number; readonly reachable: readonly string[] };

export type ClientResponse =
  | { readonly type: "committed"; readonly requestIds: readonly number[]; readonly indexes: readonly number[]; readonly term: number }
  | { readonly type: "rejected"; readonly requestIds: readonly number[]; readonly reason: string; readonly leaderId: string | null }
  | { readonly type: "unknown"; readonly requestIds: readonly number[] }
  | { readonly type: "status"; readonly requestId: number; readonly status: MemberStatus; readonly emptyReason: string | null }
  | { readonly type: "applied"; readonly requestId: number; readonly indexes: readonly number[]; readonly payloads: readonly Uint8Array[] }
  | { readonly type: "done"; readonly requestId: number; readonly detail: string }
  | { readonly type: "error"; readonly requestId: number; readonly message: string };

const packr = new Packr({ useRecords: false });

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export function encodeClientMessage(message: ClientRequest | ClientResponse): Uint8Array {
  return packr.pack(message);
}

function decodeObject(bytes: Uint8Array): Decoded<Record<string, unknown>> {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    return { ok: false, error: `not msgpack: ${(error as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, error: "expected a map with a `type`" };
  return { ok: true, value: value as Record<string, unknown> };
}

const isNumberArray = (value: unknown): value is number[] => Array.isArray(value) && value.every((item) => Number.isSafeInteger(item));
const isBytesArray = (value: unknown): value is Uint8Array[] => Array.isArray(value) && value.every((item) => item instanceof Uint8Array);
const isId = (value: unknown): boolean => Number.isSafeInteger(value);

/** Validates a request field by field: a malformed one is an error naming the field. */
export function decodeClientRequest(bytes: Uint8Array): Decoded<ClientRequest> {
  const decoded = decodeObject(bytes);
  if (!decoded.ok) return decoded;
  const message = decoded.value;
  const fail = (field: string, expected: string): Decoded<ClientRequest> => ({
    ok: false,
    error: `${String(message.type)}.${field}: expected ${expected}`,
  });
  switch (message.type) {
    case "propose":
      if (!isNumberArray(message.requestIds)) return fail("requestIds", "an array of integers");
      if (!isBytesArray(message.payloads)) return fail("payloads", "an array of byte strings");
      if (message.payloads.length !== message.requestIds.length) return fail("payloads", "one payload per request id");
      return { ok: true, value: message as unknown as ClientRequest };
    case "status":
      return isId(message.requestId) ? { ok: true, value: message as unknown as ClientRequest } : fail("requestId", "an integer");
    case "applied":
      if (!isId(message.requestId)) return fail("requestId", "an integer");
      if (!isId(message.fromIndex) || (message.fromIndex as number) < 1) return fail("fromIndex", "an integer >= 1");
      if (!isId(message.countMax) || (message.countMax as number) < 1) return fail("countMax", "an integer >= 1");
      return { ok: true, value: message as unknown as ClientRequest };
    case "transfer":
      if (!isId(message.requestId)) return fail("requestId", "an integer");
      if (message.to !== null && typeof message.to !== "string") return fail("to", "a member id or null");
      return { ok: true, value: message as unknown as ClientRequest };
    case "force-quorum":
      if (!isId(message.requestId)) return fail("requestId", "an integer");
      if (!Array.isArray(message.reachable) || !message.reachable.every((id) => typeof id === "string")) return fail("reachable", "an array of member ids");
      return { ok: true, value: message as unknown as ClientRequest };
    default:
      return { ok: false, error: `unknown request type ${JSON.stringify(message.type)}; expected propose, status, applied, transfer or force-quorum` };
  }
}

/** Responses come from our own servers; check the discriminator and trust the rest. */
export function decodeClientResponse(bytes: Uint8Array): Decoded<ClientResponse> {
  const decoded = decodeObject(bytes);
  if (!decoded.ok) return decoded;
  const known = ["committed", "rejected", "unknown", "status", "applied", "done", "error"];
  if (!known.includes(String(decoded.value.type))) return { ok: false, error: `unknown response type ${JSON.stringify(decoded.value.type)}` };
  return { ok: true, value: decoded.value as unknown as ClientResponse };
}
