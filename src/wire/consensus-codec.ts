import { Packr } from "msgpackr";
import { unreachable } from "../kernel/assert.js";
import type { Message } from "../protocols/consensus/messages.js";
import type { Configuration, Entry, EntryKind, MemberDefinition, Snapshot } from "../protocols/consensus/types.js";

/**
 * Consensus messages on the wire: one msgpack array per message, fields by position.
 *
 *   [type code, from, to, term, ...the type's fields in schema order]
 *   entry:         [index, term, kind code, data] or [index, term, kind code, data, config]
 *   config:        [[[id, weight], ...voters], [[id, weight], ...learners]]
 *   snapshot:      [index, term, config, data]
 *
 * Positional arrays rather than maps or msgpackr records: appends carry thousands of small
 * entries, and arrays spend no bytes or time on keys while staying plain msgpack (records
 * would tie both ends to one msgpackr's structure table). The schemas below are the single
 * description of the layout; decoding checks every field against them, so a malformed
 * message comes back as an error naming the field, never as a half-valid object.
 *
 * Type codes and field order are the wire format: append new types and fields at the end.
 */

type FieldKind = "id" | "count" | "time" | "flag" | "entries" | "snapshot";

/** Fields after the envelope (from, to, term), in wire order. */
const schemas = {
  "pre-vote": [
    ["lastIndex", "count"],
    ["lastTerm", "count"],
    ["empty", "flag"],
  ],
  "pre-vote-response": [
    ["granted", "flag"],
    ["empty", "flag"],
    ["blind", "flag"],
  ],
  vote: [
    ["lastIndex", "count"],
    ["lastTerm", "count"],
    ["empty", "flag"],
    ["transfer", "flag"],
  ],
  "vote-response": [
    ["granted", "flag"],
    ["empty", "flag"],
    ["blind", "flag"],
  ],
  append: [
    ["prevIndex", "count"],
    ["prevTerm", "count"],
    ["entries", "entries"],
    ["commitIndex", "count"],
    ["sentAtMs", "time"],
    ["commitWithoutFollower", "flag"],
  ],
  "append-response": [
    ["success", "flag"],
    ["matchIndex", "count"],
    ["rejectHint", "count"],
    ["empty", "flag"],
    ["sentAtMs", "time"],
  ],
  "append-received": [["matchIndex", "count"]],
  "install-snapshot": [
    ["snapshot", "snapshot"],
    ["offset", "count"],
    ["done", "flag"],
    ["sentAtMs", "time"],
  ],
  "install-snapshot-response": [
    ["matchIndex", "count"],
    ["receivedBytes", "count"],
    ["snapshotIndex", "count"],
    ["done", "flag"],
    ["empty", "flag"],
    ["sentAtMs", "time"],
  ],
  "timeout-now": [],
} as const satisfies Record<Message["type"], readonly (readonly [string, FieldKind])[]>;

type MessageType = Message["type"];

/** Index in this list is the type code on the wire. */
const typeByCode: readonly MessageType[] = [
  "pre-vote",
  "pre-vote-response",
  "vote",
  "vote-response",
  "append",
  "append-response",
  "install-snapshot",
  "install-snapshot-response",
  "timeout-now",
  // New types go last: codes already on the wire keep their meaning.
  "append-received",
];
const codeByType = new Map(typeByCode.map((type, code) => [type, code]));

const kindByCode: readonly EntryKind[] = ["command", "noop", "config"];
const codeByKind = new Map(kindByCode.map((kind, code) => [kind, code]));

const envelopeFields = 4;

// useRecords off: plain msgpack arrays (see above). int64AsType: terms and indexes past 2^32
// must come back as numbers, not bigints.
const packr = new Packr({ useRecords: false, int64AsType: "number", mapsAsObjects: true });

export type DecodeResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly error: string };

export function encodeMessage(message: Message): Uint8Array {
  const code = codeByType.get(message.type);
  if (code === undefined) return unreachable(message as never, "unknown message type");
  const wire: unknown[] = [code, message.from, message.to, message.term];
  const fields = message as unknown as Record<string, unknown>;
  for (const [name, kind] of schemas[message.type]) {
    const value = fields[name];
    if (kind === "entries") wire.push((value as readonly Entry[]).map(entryToWire));
    else if (kind === "snapshot") wire.push(snapshotToWire(value as Snapshot));
    else wire.push(value);
  }
  return packr.pack(wire);
}

/**
 * Decodes and validates one message. Entry and snapshot `data` are views into `bytes`: the
 * caller hands over ownership of `bytes` (the frame decoder returns a fresh copy per frame).
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  let wire: unknown;
  try {
    wire = packr.unpack(bytes);
  } catch (error) {
    return failure(`not msgpack: ${(error as Error).message}`);
  }
  try {
    return { ok: true, message: messageFromWire(wire) };
  } catch (error) {
    if (error instanceof MalformedMessage) return failure(error.message);
    throw error;
  }
}

function failure(error: string): DecodeResult {
  return { ok: false, error: `malformed consensus message: ${error}` };
}

/** Thrown inside decoding only, caught in decodeMessage: keeps the checkers short. */
class MalformedMessage extends Error {}

function malformed(field: string, expected: string, value: unknown): never {
  throw new MalformedMessage(`${field} should be ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function messageFromWire(wire: unknown): Message {
  if (!Array.isArray(wire)) malformed("message", "an array", wire);
  const code: unknown = wire[0];
  const type = typeof code === "number" ? typeByCode[code] : undefined;
  if (type === undefined) malformed("type code", `an integer in [0, ${typeByCode.length})`, code);
  const schema = schemas[type];
  if (wire.length !== envelopeFields + schema.length) {
    malformed(`${type} message`, `an array of ${envelopeFields + schema.length}`, wire);
  }
  const message: Record<string, unknown> = {
    type,
    from: memberId(wire[1], "from"),
    to: memberId(wire[2], "to"),
    term: count(wire[3], "term"),
  };
  for (let i = 0; i < schema.length; i++) {
    const [name, kind] = schema[i] as readonly [string, FieldKind];
    message[name] = field(wire[envelopeFields + i], kind, name);
  }
  return message as unknown as Message;
}

function field(value: unknown, kind: FieldKind, name: string): unknown {
  switch (kind) {
    case "id":
      return memberId(value, name);
    case "count":
      return count(value, name);
    case "time":
      if (typeof value !== "number" || !Number.isFinite(value)) malformed(name, "a finite number", value);
      return value;
    case "flag":
      if (typeof value !== "boolean") malformed(name, "a boolean", value);
      return value;
    case "entries":
      return entriesFromWire(value, name);
    case "snapshot":
      return snapshotFromWire(value, name);
    default:
      return unreachable(kind);
  }
}

function memberId(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) malformed(name, "a non-empty member id", value);
  return value;
}

/** Terms and indexes: non-negative safe integers. */
function count(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    malformed(name, "a non-negative integer", value);
  }
  return value;
}

function bytes(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) malformed(name, "bytes", value);
  // msgpackr hands back Node Buffers; consensus code and tests expect plain Uint8Arrays.
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function entryToWire(entry: Entry): unknown[] {
  const kind = codeByKind.get(entry.kind);
  if (kind === undefined) return unreachable(entry.kind as never, "unknown entry kind");
  return entry.config === undefined
    ? [entry.index, entry.term, kind, entry.data]
    : [entry.index, entry.term, kind, entry.data, configToWire(entry.config)];
}

function entriesFromWire(value: unknown, name: string): Entry[] {
  if (!Array.isArray(value)) malformed(name, "an array of entries", value);
  const entries: Entry[] = new Array<Entry>(value.length);
  for (let i = 0; i < value.length; i++) entries[i] = entryFromWire(value[i], `${name}[${i}]`);
  return entries;
}

function entryFromWire(value: unknown, name: string): Entry {
  if (!Array.isArray(value) || (value.length !== 4 && value.length !== 5)) {
    malformed(name, "an entry [index, term, kind, data, config?]", value);
  }
  const kindCode: unknown = value[2];
  const kind = typeof kindCode === "number" ? kindByCode[kindCode] : undefined;
  if (kind === undefined) malformed(`${name}.kind`, `an integer in [0, ${kindByCode.length})`, kindCode);
  const entry = {
    index: count(value[0], `${name}.index`),
    term: count(value[1], `${name}.term`),
    kind,
    data: bytes(value[3], `${name}.data`),
  };
  if (kind === "config") {
    if (value.length !== 5) malformed(`${name}.config`, "a configuration on a config entry", undefined);
    return { ...entry, config: configFromWire(value[4], `${name}.config`) };
  }
  if (value.length !== 4) malformed(`${name}.config`, `absent on a ${kind} entry`, value[4]);
  return entry;
}

function configToWire(config: Configuration): unknown[] {
  return [config.voters.map((m) => [m.id, m.weight]), config.learners.map((m) => [m.id, m.weight])];
}

function configFromWire(value: unknown, name: string): Configuration {
  if (!Array.isArray(value) || value.length !== 2) malformed(name, "a configuration [voters, learners]", value);
  return {
    voters: membersFromWire(value[0], `${name}.voters`),
    learners: membersFromWire(value[1], `${name}.learners`),
  };
}

function membersFromWire(value: unknown, name: string): MemberDefinition[] {
  if (!Array.isArray(value)) malformed(name, "an array of members", value);
  return value.map((member: unknown, i) => {
    const at = `${name}[${i}]`;
    if (!Array.isArray(member) || member.length !== 2) malformed(at, "a member [id, weight]", member);
    const weight: unknown = member[1];
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) {
      malformed(`${at}.weight`, "a non-negative number", weight);
    }
    return { id: memberId(member[0], `${at}.id`), weight };
  });
}

function snapshotToWire(snapshot: Snapshot): unknown[] {
  return [snapshot.index, snapshot.term, configToWire(snapshot.config), snapshot.data];
}

function snapshotFromWire(value: unknown, name: string): Snapshot {
  if (!Array.isArray(value) || value.length !== 4) malformed(name, "a snapshot [index, term, config, data]", value);
  return {
    index: count(value[0], `${name}.index`),
    term: count(value[1], `${name}.term`),
    config: configFromWire(value[2], `${name}.config`),
    data: bytes(value[3], `${name}.data`),
  };
}
