import { Packr } from "msgpackr";
import { limits } from "../kernel/limits.js";
import type { RealmRole } from "../protocols/realm/family.js";
import type { RealmMessage, ServerState } from "../protocols/realm/messages.js";

/**
 * Messages between affiliated realm servers (protocols/realm/messages.ts), one msgpack map per
 * frame. The peer is another holdfast server, but possibly of another version or with another
 * definition: every field is checked, and a message that fails is an error naming the field
 * (the driver logs it and closes the connection) rather than a crash or a half-read message.
 */
const packr = new Packr({ useRecords: false });

/** Server names (checked again against the family) and content hashes. */
const nameLengthMax = 256;
const hashLengthMax = 128;

export function encodeRealmMessage(message: RealmMessage): Uint8Array {
  // A reason is for people: cut rather than refuse, so a long one still tells them something.
  if ((message.type === "refused" || message.type === "revision-refused") && message.reason.length > limits.realmReasonLengthMax) {
    return packr.pack({ ...message, reason: `${message.reason.slice(0, limits.realmReasonLengthMax - 1)}…` });
  }
  return packr.pack(message);
}

export type DecodedRealmMessage = { readonly ok: true; readonly message: RealmMessage } | { readonly ok: false; readonly error: string };

const roles: readonly RealmRole[] = ["primary", "satellite", "backup", "disaster-recovery"];

const isInt = (value: unknown, min: number): value is number => Number.isSafeInteger(value) && (value as number) >= min;
const isText = (value: unknown, lengthMax: number): value is string => typeof value === "string" && value.length > 0 && value.length <= lengthMax;
const isReason = (value: unknown): value is string => typeof value === "string" && value.length <= limits.realmReasonLengthMax;

function isState(value: unknown): value is ServerState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Record<string, unknown>;
  return isInt(state.revision, 0) && typeof state.serving === "boolean" && typeof state.accepting === "boolean";
}

function isRevision(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const revision = value as Record<string, unknown>;
  return isInt(revision.number, 1) && isText(revision.hash, hashLengthMax) && typeof revision.text === "string" && revision.text.length <= limits.realmDefinitionCharactersMax;
}

type FieldCheck = readonly [field: string, ok: (value: unknown) => boolean, expected: string];

const state: FieldCheck = ["state", isState, "{ revision: integer >= 0, serving: boolean, accepting: boolean }"];
const number: FieldCheck = ["number", (v) => isInt(v, 1), "a revision number >= 1"];
const reason: FieldCheck = ["reason", isReason, `a reason of at most ${limits.realmReasonLengthMax} characters`];

const checks: Record<RealmMessage["type"], readonly FieldCheck[]> = {
  hello: [
    ["from", (v) => isText(v, nameLengthMax), "a server name"],
    ["role", (v) => roles.includes(v as RealmRole), `one of ${roles.join(", ")}`],
    state,
  ],
  heartbeat: [state],
  revision: [["revision", isRevision, `{ number >= 1, hash, text of at most ${limits.realmDefinitionCharactersMax} characters }`]],
  "revision-ack": [number],
  "revision-refused": [number, reason],
  refused: [reason],
};

const types = Object.keys(checks).join(", ");

export function decodeRealmMessage(bytes: Uint8Array): DecodedRealmMessage {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    return { ok: false, error: `not msgpack: ${(error as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, error: "expected a map with a `type` field" };
  const record = value as Record<string, unknown>;
  const fieldChecks = typeof record.type === "string" && Object.hasOwn(checks, record.type) ? checks[record.type as RealmMessage["type"]] : undefined;
  if (fieldChecks === undefined) return { ok: false, error: `unknown realm message type ${JSON.stringify(record.type)}; expected one of ${types}` };
  for (const [field, ok, expected] of fieldChecks) {
    if (!ok(record[field])) return { ok: false, error: `${record.type as string}.${field}: expected ${expected}` };
  }
  return { ok: true, message: pick(record as unknown as RealmMessage) };
}

/** Only the fields the type defines: extra keys from a newer peer are dropped, not passed on. */
function pick(message: RealmMessage): RealmMessage {
  switch (message.type) {
    case "hello":
      return { type: "hello", from: message.from, role: message.role, state: pickState(message.state) };
    case "heartbeat":
      return { type: "heartbeat", state: pickState(message.state) };
    case "revision":
      return { type: "revision", revision: { number: message.revision.number, hash: message.revision.hash, text: message.revision.text } };
    case "revision-ack":
      return { type: "revision-ack", number: message.number };
    case "revision-refused":
      return { type: "revision-refused", number: message.number, reason: message.reason };
    case "refused":
      return { type: "refused", reason: message.reason };
  }
}

function pickState(state: ServerState): ServerState {
  return { revision: state.revision, serving: state.serving, accepting: state.accepting };
}
