import { Packr } from "msgpackr";
import { limits } from "../kernel/limits.js";
import { checkMsgpack, peekRequestFields, sessionRequestBounds } from "./msgpack-bounds.js";

/**
 * The application protocol between the client library and a holdfast server's client port.
 * One msgpack map per frame. Requests carry a `requestId` (> 0) when they want an answer;
 * answers echo it. Deliveries and bus messages are pushed with the subscription id the client
 * chose. Messages travel in their canonical binary form (persistence/message-codec.ts) so the
 * server validates them once and stores the bytes as they came.
 *
 * Every request is walked against the bounds of msgpack-bounds.ts before it is unpacked, then
 * checked field by field; a malformed one is answered with an error naming the field path and
 * what was expected, and the connection stays open (only a frame that is not one msgpack map
 * at all closes it).
 */
export const sessionProtocolVersion = 1;

export type AckMode = "sync" | "async";
export type SubscribeType = "standard" | "shared" | "last-value";

export type SessionRequest =
  | {
      readonly type: "hello";
      readonly requestId: number;
      readonly protocol: number;
      readonly client: string;
      readonly app: string;
      readonly user: string;
      readonly password: string;
      /**
       * `home` (the default): this server is the client's realm server, admitted by its realm
       * role (issue 5); `leader`: a connection only to reach a cluster's leader here.
       */
      readonly purpose?: SessionPurpose;
      /** Who connects, for the disaster-recovery server's admission; default `application`. */
      readonly kind?: SessionClientKind;
    }
  | {
      readonly type: "publish";
      readonly requestId: number;
      readonly endpoint: string;
      readonly publisherId: string;
      readonly sequences: readonly number[];
      readonly messages: readonly Uint8Array[];
    }
  | {
      readonly type: "subscribe";
      readonly requestId: number;
      readonly subscriptionId: number;
      readonly endpoint: string;
      readonly durable: string;
      /** For a dynamic durable: which template to create it from (optional if only one fits). */
      readonly template: string | null;
      /** The durable type the subscriber expects (checked), or null to accept what it is. */
      readonly durableType: SubscribeType | null;
      /** A matcher spec (matcher.ts) for a dynamic durable. */
      readonly matcher: unknown;
      readonly prefetch: number;
    }
  | { readonly type: "unsubscribe"; readonly requestId: number; readonly subscriptionId: number }
  /** requestId 0: async ack, no answer wanted. */
  | { readonly type: "ack"; readonly requestId: number; readonly subscriptionId: number; readonly sequences: readonly number[] }
  | { readonly type: "credit"; readonly subscriptionId: number; readonly count: number }
  | { readonly type: "map-get"; readonly requestId: number; readonly endpoint: string; readonly map: string; readonly key: string }
  | { readonly type: "map-set"; readonly requestId: number; readonly endpoint: string; readonly map: string; readonly key: string; readonly message: Uint8Array }
  | { readonly type: "map-remove"; readonly requestId: number; readonly endpoint: string; readonly map: string; readonly key: string }
  | { readonly type: "map-iterate"; readonly requestId: number; readonly endpoint: string; readonly map: string; readonly afterKey: string; readonly countMax: number }
  | { readonly type: "bus-subscribe"; readonly requestId: number; readonly subscriptionId: number; readonly subject: string }
  | { readonly type: "bus-unsubscribe"; readonly subscriptionId: number }
  | { readonly type: "bus-publish"; readonly subject: string; readonly replyTo: string | null; readonly message: Uint8Array }
  | { readonly type: "status"; readonly requestId: number }
  /** Answered `ok`: a client's heartbeat on its home session (issue 5), to notice a hung server. */
  | { readonly type: "ping"; readonly requestId: number; readonly revision?: number }
  /**
   * The client's answer to a `realm-revision` push: whether it took (or, for a deploy's test,
   * could take) the revision. `detail` says why not.
   */
  | { readonly type: "realm-status"; readonly number: number; readonly hash: string; readonly test: boolean; readonly status: ClientRealmAnswer; readonly detail: string };

export type SessionPurpose = "home" | "leader";
export type SessionClientKind = "application" | "disaster-recovery-service";
/** What a client itself can say of a revision; the server adds timed out and out of sync. */
export type ClientRealmAnswer = "running" | "needs-restart" | "exception";

/** A stable code scripts and the client library can branch on; `message` is for people. */
export type ErrorCode =
  | "malformed"
  | "unauthenticated"
  | "forbidden"
  | "unknown-endpoint"
  | "unknown-durable"
  | "unknown-template"
  | "invalid-matcher"
  | "invalid-message"
  | "invalid-subject"
  | "store-full"
  | "too-large"
  | "too-many-durables"
  | "durable-busy"
  | "wrong-durable-type"
  | "duplicate-outside-window"
  | "no-leader"
  | "overloaded"
  | "unknown-outcome"
  | "unsupported"
  | "limit"
  /** The server failed while handling the request (its log says why); the session is closed. */
  | "internal"
  /** Frame errors, sent in the `closing` before the server drops the connection. */
  | "frame-too-large"
  | "checksum-mismatch"
  /** Realm roles (issue 5): this server does not take clients now; `servers` says where to go. */
  | "not-serving"
  /** Admission: too many connections have not said hello yet (from this address, or in all). */
  | "too-many-connections"
  /** Admission: the server holds as many sessions as it takes. */
  | "too-many-sessions"
  /** Admission: no hello, or its password check not finished, within the server's hello deadline. */
  | "hello-timeout"
  /** Too many failed logins from this address (or for this user from it): `retryAfterMs` says when to try. */
  | "backed-off"
  /** The server checks as many passwords as it can now: `retryAfterMs` says when to try. */
  | "busy";

export type PublishStatus = "stored" | "duplicate" | "rejected";

export type SessionResponse =
  | {
      readonly type: "welcome";
      readonly requestId: number;
      readonly server: string;
      readonly clientId: string;
      /** The realm revision this server runs and the client's servers (regular, then its backup); null without realm roles. */
      readonly realm?: RealmInfo | null;
    }
  | { readonly type: "ok"; readonly requestId: number }
  /**
   * `servers`: with `not-serving`, the client ports to try instead, best first. `retryAfterMs`:
   * with `backed-off` and `busy`, how long to wait before trying again.
   */
  | {
      readonly type: "error";
      readonly requestId: number;
      readonly code: ErrorCode;
      readonly message: string;
      readonly servers?: readonly string[];
      readonly retryAfterMs?: number;
    }
  /**
   * Persistence requests for a cluster whose leader is elsewhere: connect there. `leader` is
   * null while no leader is known (an election is running): retry shortly.
   */
  | {
      readonly type: "redirect";
      readonly requestId: number;
      readonly cluster: string;
      readonly leader: { readonly server: string; readonly host: string; readonly port: number } | null;
    }
  | {
      readonly type: "published";
      readonly requestId: number;
      /** What the confirms promise (the store's ack point, or a stronger one actually reached). */
      readonly ackPoint: string;
      readonly statuses: readonly PublishStatus[];
      /** Store sequence per message (0 for rejected ones). */
      readonly storeSequences: readonly number[];
      /** Per rejected message: `code: detail`; empty string otherwise. Empty array when none. */
      readonly errors: readonly string[];
    }
  | {
      readonly type: "deliver";
      readonly subscriptionId: number;
      readonly sequences: readonly number[];
      readonly deliveryCounts: readonly number[];
      readonly messages: readonly Uint8Array[];
      /** Last-value: the key of each message; empty otherwise. */
      readonly keys: readonly string[];
    }
  /** The subscription ended on the server's side (leader change, shutdown): subscribe again. */
  | { readonly type: "subscription-lost"; readonly subscriptionId: number; readonly reason: string }
  | { readonly type: "map-value"; readonly requestId: number; readonly message: Uint8Array | null }
  | { readonly type: "map-entries"; readonly requestId: number; readonly keys: readonly string[]; readonly messages: readonly Uint8Array[] }
  | { readonly type: "bus-message"; readonly subscriptionId: number; readonly subject: string; readonly replyTo: string | null; readonly message: Uint8Array }
  | { readonly type: "status"; readonly requestId: number; readonly status: unknown }
  /**
   * A new realm revision (issue 5): `test` asks whether the client could take it (a deploy's
   * test step), otherwise it is active now. The client answers with `realm-status`.
   */
  | ({ readonly type: "realm-revision"; readonly test: boolean } & RealmInfo)
  /**
   * Sent once before the server closes the connection, with why. `code`: when the client did
   * something wrong (a frame error, an undecodable request), the server failed on a request, or
   * it refused the connection before a welcome (admission; `retryAfterMs`: when to try again).
   * `reconnectTo`: the client port to connect to instead (a backup handing its clients back).
   */
  | { readonly type: "closing"; readonly reason: string; readonly code?: ErrorCode; readonly reconnectTo?: string; readonly retryAfterMs?: number };

export interface RealmInfo {
  readonly number: number;
  readonly hash: string;
  /** host:port of the client's regular server, then its backup if it has one. */
  readonly servers: readonly string[];
  /**
   * The realm's heartbeat settings: a client pings its home server this often and takes a
   * server silent this long as gone (then it fails over), as affiliated servers do.
   */
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
}

const packr = new Packr({ useRecords: false });

export function encodeSessionMessage(message: SessionRequest | SessionResponse): Uint8Array {
  return packr.pack(message);
}

/**
 * A failure answers `requestId` (0 when unknown) with `code` and `error`; `fatal`: the frame is
 * not one msgpack map, so nothing in it can be trusted and the connection closes.
 */
export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: ErrorCode; readonly error: string; readonly requestId: number; readonly fatal: boolean };

const isInt = (value: unknown, min: number): value is number => Number.isSafeInteger(value) && (value as number) >= min;
const isString = (value: unknown, lengthMax: number): value is string => typeof value === "string" && value.length > 0 && value.length <= lengthMax;
const isIntArray = (value: unknown, min: number): value is number[] => Array.isArray(value) && value.every((item) => isInt(item, min));
const isBytesArray = (value: unknown): value is Uint8Array[] => Array.isArray(value) && value.every((item) => item instanceof Uint8Array);

/** Names, keys and subjects: generous bounds, they are checked again where they are used. */
const nameLengthMax = 256;
const secretLengthMax = 1024;
const subjectLengthMax = 1024;

type FieldCheck = readonly [field: string, ok: (value: unknown) => boolean, expected: string];

const requestId: FieldCheck = ["requestId", (v) => isInt(v, 1), "an integer >= 1"];
const subscriptionId: FieldCheck = ["subscriptionId", (v) => isInt(v, 1), "an integer >= 1"];
const endpoint: FieldCheck = ["endpoint", (v) => isString(v, nameLengthMax), "an endpoint name"];
const map: FieldCheck = ["map", (v) => isString(v, nameLengthMax), "a map durable name"];
const key: FieldCheck = ["key", (v) => isString(v, nameLengthMax), `a non-empty key of at most ${nameLengthMax} characters`];

const requestChecks: Record<SessionRequest["type"], readonly FieldCheck[]> = {
  hello: [
    requestId,
    ["protocol", (v) => v === sessionProtocolVersion, `protocol version ${sessionProtocolVersion}`],
    ["client", (v) => isString(v, nameLengthMax), "a client name"],
    ["app", (v) => isString(v, nameLengthMax), "an application name"],
    ["user", (v) => isString(v, nameLengthMax), "a user name"],
    ["password", (v) => typeof v === "string" && v.length <= secretLengthMax, "a password string"],
    ["purpose", (v) => v === undefined || v === "home" || v === "leader", "home, leader or nothing"],
    ["kind", (v) => v === undefined || v === "application" || v === "disaster-recovery-service", "application, disaster-recovery-service or nothing"],
  ],
  publish: [
    requestId,
    endpoint,
    ["publisherId", (v) => isString(v, nameLengthMax), "a publisher id"],
    ["sequences", (v) => isIntArray(v, 1) && v.length > 0, "a non-empty array of integers >= 1"],
    ["messages", isBytesArray, "an array of encoded messages (byte strings)"],
  ],
  subscribe: [
    requestId,
    subscriptionId,
    endpoint,
    ["durable", (v) => isString(v, nameLengthMax), "a durable name"],
    ["template", (v) => v === null || isString(v, nameLengthMax), "a template name or null"],
    ["durableType", (v) => v === null || v === "standard" || v === "shared" || v === "last-value", "standard, shared, last-value or null"],
    ["prefetch", (v) => isInt(v, 1), "an integer >= 1"],
  ],
  unsubscribe: [requestId, subscriptionId],
  ack: [["requestId", (v) => isInt(v, 0), "an integer >= 0 (0: no answer)"], subscriptionId, ["sequences", (v) => isIntArray(v, 1), "an array of store sequences"]],
  credit: [subscriptionId, ["count", (v) => isInt(v, 1), "an integer >= 1"]],
  "map-get": [requestId, endpoint, map, key],
  "map-set": [requestId, endpoint, map, key, ["message", (v) => v instanceof Uint8Array, "an encoded message (byte string)"]],
  "map-remove": [requestId, endpoint, map, key],
  "map-iterate": [requestId, endpoint, map, ["afterKey", (v) => typeof v === "string", "a key string (\"\" for the start)"], ["countMax", (v) => isInt(v, 1), "an integer >= 1"]],
  "bus-subscribe": [requestId, subscriptionId, ["subject", (v) => isString(v, subjectLengthMax), "a subject pattern"]],
  "bus-unsubscribe": [subscriptionId],
  "bus-publish": [
    ["subject", (v) => isString(v, subjectLengthMax), "a subject"],
    ["replyTo", (v) => v === null || isString(v, subjectLengthMax), "a reply subject or null"],
    ["message", (v) => v instanceof Uint8Array, "an encoded message (byte string)"],
  ],
  status: [requestId],
  ping: [requestId, ["revision", (v) => v === undefined || isInt(v, 0), "the client's realm revision number, or nothing"]],
  "realm-status": [
    ["number", (v) => isInt(v, 1), "a revision number >= 1"],
    ["hash", (v) => isString(v, nameLengthMax), "the revision's hash, as pushed"],
    ["test", (v) => typeof v === "boolean", "a boolean"],
    ["status", (v) => v === "running" || v === "needs-restart" || v === "exception", "running, needs-restart or exception"],
    ["detail", (v) => typeof v === "string" && v.length <= subjectLengthMax, `a string of at most ${subjectLengthMax} characters`],
  ],
};

const requestTypes = Object.keys(requestChecks).join(", ");

/** Own keys only: a request of type "toString" or "constructor" is unknown, not a function to iterate. */
function checksFor(type: unknown): readonly FieldCheck[] | undefined {
  return typeof type === "string" && Object.hasOwn(requestChecks, type) ? requestChecks[type as SessionRequest["type"]] : undefined;
}

const fatal = (error: string): Decoded<never> => ({ ok: false, code: "malformed", error, requestId: 0, fatal: true });
const refused = (code: ErrorCode, error: string, requestId: number): Decoded<never> => ({ ok: false, code, error, requestId, fatal: false });

export function decodeSessionRequest(bytes: Uint8Array): Decoded<SessionRequest> {
  const violation = checkMsgpack(bytes, sessionRequestBounds);
  if (violation?.kind === "unreadable") return fatal(`not msgpack: ${violation.detail}${violation.path === "" ? "" : ` at ${violation.path}`}`);
  if (violation !== null) {
    const { isMap, type, requestId } = peekRequestFields(bytes);
    if (!isMap) return fatal("expected a map with a `type` field");
    const where = [checksFor(type) === undefined ? "request" : type, violation.path].filter((part) => part !== "").join(".");
    return refused(type === "subscribe" && violation.path.startsWith("matcher") ? "invalid-matcher" : "malformed", `${where}: ${violation.detail}`, requestId);
  }
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    return fatal(`not msgpack: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fatal("expected a map with a `type` field");
  return checkRequest(value as Record<string, unknown>);
}

function checkRequest(record: Record<string, unknown>): Decoded<SessionRequest> {
  const answerTo = isInt(record.requestId, 1) ? record.requestId : 0;
  const checks = checksFor(record.type);
  if (checks === undefined) return refused("malformed", `unknown request type ${describeType(record.type)}; expected one of ${requestTypes}`, answerTo);
  for (const [field, ok, expected] of checks) {
    if (!ok(record[field])) return refused("malformed", `${record.type as string}.${field}: expected ${expected}`, answerTo);
  }
  if (record.type === "publish") {
    const count = (record.messages as unknown[]).length;
    if (count !== (record.sequences as unknown[]).length) return refused("malformed", "publish.messages: expected one message per sequence", answerTo);
    if (count > limits.publishItemsPerRequestMax) {
      const error = `publish: ${count} messages in one request; at most ${limits.publishItemsPerRequestMax} (publishItemsPerRequestMax): send fewer per request`;
      return refused("too-large", error, answerTo);
    }
  }
  return { ok: true, value: record as unknown as SessionRequest };
}

/** A request type as sent, cut short: it may be any value of up to a frame's size. */
function describeType(type: unknown): string {
  if (typeof type !== "string") return type === undefined ? "(none)" : `(a ${Array.isArray(type) ? "array" : typeof type}, not a string)`;
  return JSON.stringify(type.length > 64 ? `${type.slice(0, 64)}…` : type);
}

const responseTypes = new Set(["welcome", "ok", "error", "redirect", "published", "deliver", "subscription-lost", "map-value", "map-entries", "bus-message", "status", "closing", "realm-revision"]);

/** Responses come from our own servers: check the discriminator and trust the rest. */
export function decodeSessionResponse(bytes: Uint8Array): Decoded<SessionResponse> {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    return fatal(`not msgpack: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || !responseTypes.has(String((value as { type?: unknown }).type))) {
    return fatal(`unknown response ${describeType((value as { type?: unknown } | null)?.type)}`);
  }
  return { ok: true, value: value as SessionResponse };
}
