import { Packr } from "msgpackr";
import { limits } from "../kernel/limits.js";
import type { RealmRole } from "../protocols/realm/family.js";
import type { ClientTestAnswer, ClientTestStatus, RealmMessage, ServerState } from "../protocols/realm/messages.js";

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
    return packr.pack({ ...message, reason: cut(message.reason) });
  }
  if (message.type === "revision-test-answer") {
    return packr.pack({ ...message, clients: message.clients.slice(0, limits.realmTestClientsMax).map((client) => (client.detail.length > limits.realmReasonLengthMax ? { ...client, detail: cut(client.detail) } : client)) });
  }
  return packr.pack(message);
}

function cut(reason: string): string {
  return `${reason.slice(0, limits.realmReasonLengthMax - 1)}…`;
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

const clientStatuses: readonly ClientTestStatus[] = ["running", "needs-restart", "exception", "timed-out", "out-of-sync"];

/** A client's names may be empty (a client that gave none); bounded like server names. */
const isName = (value: unknown): value is string => typeof value === "string" && value.length <= nameLengthMax;

function isClientAnswer(value: unknown): value is ClientTestAnswer {
  if (typeof value !== "object" || value === null) return false;
  const client = value as Record<string, unknown>;
  return isName(client.clientId) && isName(client.client) && isName(client.user) && isName(client.app) && clientStatuses.includes(client.status as ClientTestStatus) && isReason(client.detail);
}

const isClientAnswers = (value: unknown): boolean => Array.isArray(value) && value.length <= limits.realmTestClientsMax && value.every(isClientAnswer);

type FieldCheck = readonly [field: string, ok: (value: unknown) => boolean, expected: string];

const state: FieldCheck = ["state", isState, "{ revision: integer >= 0, serving: boolean, accepting: boolean }"];
const number: FieldCheck = ["number", (v) => isInt(v, 1), "a revision number >= 1"];
const reason: FieldCheck = ["reason", isReason, `a reason of at most ${limits.realmReasonLengthMax} characters`];

const requestId: FieldCheck = ["requestId", (v) => isInt(v, 0), "a request id >= 0"];
const revisionField: FieldCheck = ["revision", isRevision, `{ number >= 1, hash, text of at most ${limits.realmDefinitionCharactersMax} characters }`];

const checks: Record<RealmMessage["type"], readonly FieldCheck[]> = {
  hello: [
    ["from", (v) => isText(v, nameLengthMax), "a server name"],
    ["role", (v) => roles.includes(v as RealmRole), `one of ${roles.join(", ")}`],
    state,
  ],
  heartbeat: [state],
  revision: [revisionField],
  "revision-ack": [number],
  "revision-refused": [number, reason],
  "revision-test": [requestId, revisionField],
  "revision-test-answer": [
    requestId,
    ["clients", isClientAnswers, `at most ${limits.realmTestClientsMax} of { clientId, client, user, app: names of at most ${nameLengthMax} characters, status: one of ${clientStatuses.join(", ")}, detail: at most ${limits.realmReasonLengthMax} characters }`],
  ],
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
    case "revision-test":
      return { type: "revision-test", requestId: message.requestId, revision: { number: message.revision.number, hash: message.revision.hash, text: message.revision.text } };
    case "revision-test-answer":
      return {
        type: "revision-test-answer",
        requestId: message.requestId,
        clients: message.clients.map((client) => ({ clientId: client.clientId, client: client.client, user: client.user, app: client.app, status: client.status, detail: client.detail })),
      };
    case "refused":
      return { type: "refused", reason: message.reason };
  }
}

function pickState(state: ServerState): ServerState {
  return { revision: state.revision, serving: state.serving, accepting: state.accepting };
}
