/**
 * Commands as consensus entry payloads. msgpack of positional arrays (no maps: smaller and
 * faster, and the field names never travel), message bytes as raw msgpack bin:
 *
 *   [format=1, kind, atMs, …]
 *   publish         0: store, publisherId, flat [sequence, message bytes, …]
 *   ack             1: store, durable, [sequence, …]
 *   create-durable  2: store, durable, template, matcher
 *   dead-letter     3: store, durable, [sequence, …]
 *   map-set         4: store, durable, key, message bytes
 *   map-remove      5: store, durable, key
 *   tick            6: (nothing more)
 *
 * A matcher is null (none) or [0, wire tests] (matcher-wire.ts keeps int operands and nested
 * messages exact). Only a matcher that compiles is written: a client's spec is compiled at its
 * session and refused there, so the log never carries (or re-packs) a spec as a client sent
 * it. Older logs may hold [1, the spec as given] for one that did not compile; it is still
 * read, and the state machine rejects it with `invalid-matcher` on every service alike.
 *
 * `decodeCommand` checks the whole shape and every bound and never throws: a corrupt or
 * foreign entry must become an error value, skipped identically on every service.
 */
import { Packr } from "msgpackr";
import { assert } from "../../kernel/assert.js";
import { compileMatcher, type MatcherSpec } from "./matcher.js";
import { matcherToWire, wireToSpec } from "./matcher-wire.js";
import { stateLimits, type StateLimits } from "./state-limits.js";
import type { Command, PublishItem } from "./state-types.js";

export const commandFormat = 1;
const kinds = ["publish", "ack", "create-durable", "dead-letter", "map-set", "map-remove", "tick"] as const;
const kindIndex: Record<Command["type"], number> = { publish: 0, ack: 1, "create-durable": 2, "dead-letter": 3, "map-set": 4, "map-remove": 5, tick: 6 };
const compiledMatcher = 0;
/** Read only: older versions wrote a spec that did not compile as it was given. */
const rawMatcher = 1;

const packr = new Packr({ useRecords: false });

export type CommandDecodeResult = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: string };

/**
 * The command's bytes in a buffer of their own. msgpackr packs into a shared buffer and
 * returns a view of it; a log entry keeps its bytes until the log is compacted, so a view
 * would pin every shared buffer it touched (measured: 47 MiB of buffers behind 12 MiB of
 * entries on a leader holding 100,000 messages). One copy of the entry is cheaper than that.
 */
export function encodeCommand(command: Command): Uint8Array {
  return new Uint8Array(packCommand(command));
}

function packCommand(command: Command): Uint8Array {
  const head = [commandFormat, kindIndex[command.type], command.atMs];
  switch (command.type) {
    case "publish": {
      const flat: unknown[] = new Array<unknown>(command.items.length * 2);
      for (let index = 0; index < command.items.length; index += 1) {
        const item = command.items[index] as PublishItem;
        flat[2 * index] = item.sequence;
        flat[2 * index + 1] = item.message;
      }
      return packr.pack([...head, command.store, command.publisherId, flat]);
    }
    case "ack":
    case "dead-letter":
      return packr.pack([...head, command.store, command.durable, command.sequences]);
    case "create-durable":
      return packr.pack([...head, command.store, command.durable, command.template, encodeMatcher(command.matcher)]);
    case "map-set":
      return packr.pack([...head, command.store, command.durable, command.key, command.message]);
    case "map-remove":
      return packr.pack([...head, command.store, command.durable, command.key]);
    case "tick":
      return packr.pack(head);
  }
}

function encodeMatcher(spec: MatcherSpec | undefined): unknown {
  if (spec === undefined) return null;
  const compiled = compileMatcher(spec);
  assert(compiled.ok, "create-durable: a matcher is compiled (and refused if invalid) before it is proposed");
  return [compiledMatcher, matcherToWire(compiled.matcher)];
}

class Malformed extends Error {}

export function decodeCommand(bytes: Uint8Array, limits: StateLimits = stateLimits): CommandDecodeResult {
  let decoded: unknown;
  try {
    decoded = packr.unpack(bytes);
  } catch (error) {
    return { ok: false, error: `not msgpack: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    return { ok: true, command: readCommand(decoded, limits) };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, error: error.message };
    throw error;
  }
}

function readCommand(decoded: unknown, limits: StateLimits): Command {
  if (!Array.isArray(decoded)) throw new Malformed("a command is an array");
  const fields = decoded as unknown[];
  if (fields[0] !== commandFormat) throw new Malformed(`unknown command format ${String(fields[0])}`);
  const kind = kinds[fields[1] as number];
  if (typeof fields[1] !== "number" || kind === undefined) throw new Malformed(`unknown command kind ${String(fields[1])}`);
  const atMs = fields[2];
  if (typeof atMs !== "number" || !Number.isFinite(atMs) || atMs < 0) throw new Malformed("atMs is a finite number >= 0");
  const arity = { publish: 6, ack: 6, "create-durable": 7, "dead-letter": 6, "map-set": 7, "map-remove": 6, tick: 3 }[kind];
  if (fields.length !== arity) throw new Malformed(`a ${kind} command has ${arity} fields, got ${fields.length}`);
  if (kind === "tick") return { type: "tick", atMs };
  const store = readName(fields[3], "store", limits);
  switch (kind) {
    case "publish":
      return { type: "publish", atMs, store, publisherId: readName(fields[4], "publisherId", limits), items: readItems(fields[5], limits) };
    case "ack":
    case "dead-letter":
      return { type: kind, atMs, store, durable: readName(fields[4], "durable", limits), sequences: readSequences(fields[5], limits) };
    case "create-durable": {
      const command = { type: kind, atMs, store, durable: readName(fields[4], "durable", limits), template: readName(fields[5], "template", limits) };
      const matcher = readMatcher(fields[6]);
      return matcher === undefined ? command : { ...command, matcher };
    }
    case "map-set":
      return { type: kind, atMs, store, durable: readName(fields[4], "durable", limits), key: readKey(fields[5]), message: readBytes(fields[6], "message") };
    case "map-remove":
      return { type: kind, atMs, store, durable: readName(fields[4], "durable", limits), key: readKey(fields[5]) };
  }
}

function readName(value: unknown, what: string, limits: StateLimits): string {
  if (typeof value !== "string" || value.length === 0 || value.length > limits.commandNameLengthMax) {
    throw new Malformed(`${what} is a string of 1 to ${limits.commandNameLengthMax} characters`);
  }
  return value;
}

/** Its length is checked when applied (the answer names the bound). */
function readKey(value: unknown): string {
  if (typeof value !== "string") throw new Malformed("key is a string");
  return value;
}

function readBytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Malformed(`${what} is bytes`);
  return value;
}

function isSequence(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function readSequences(value: unknown, limits: StateLimits): number[] {
  if (!Array.isArray(value) || value.length > limits.sequencesPerCommandMax) throw new Malformed(`sequences is an array of at most ${limits.sequencesPerCommandMax}`);
  for (const sequence of value as unknown[]) if (!isSequence(sequence)) throw new Malformed("a sequence is a positive integer");
  return value as number[];
}

function readItems(value: unknown, limits: StateLimits): PublishItem[] {
  if (!Array.isArray(value) || value.length % 2 !== 0 || value.length > 2 * limits.publishItemsPerCommandMax) {
    throw new Malformed(`items is a flat array of at most ${limits.publishItemsPerCommandMax} [sequence, message] pairs`);
  }
  const flat = value as unknown[];
  const items: PublishItem[] = new Array<PublishItem>(flat.length / 2);
  for (let index = 0; index < flat.length; index += 2) {
    const sequence = flat[index];
    const message = flat[index + 1];
    if (!isSequence(sequence)) throw new Malformed(`item ${index / 2}: the sequence is a positive integer`);
    if (!(message instanceof Uint8Array)) throw new Malformed(`item ${index / 2}: the message is bytes`);
    items[index / 2] = { sequence, message };
  }
  return items;
}

function readMatcher(value: unknown): MatcherSpec | undefined {
  if (value === null) return undefined;
  if (!Array.isArray(value) || value.length !== 2) throw new Malformed("matcher is null or [form, matcher]");
  if (value[0] === rawMatcher) return value[1] as MatcherSpec;
  if (value[0] !== compiledMatcher) throw new Malformed("unknown matcher form");
  const spec = wireToSpec(value[1]);
  if (!spec.ok) throw new Malformed(spec.error);
  return spec.spec;
}
