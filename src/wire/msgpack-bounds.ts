import { limits } from "../kernel/limits.js";

/**
 * A bounded walk over untrusted msgpack bytes, before anything unpacks them. msgpackr's
 * unpacker and packer recurse, so a frame nested a few thousand deep overflows the stack, and a
 * map of 65,536 keys or a 9-byte bigint extension comes back as something our own packer then
 * refuses; both surfaced as exceptions far from the socket that sent them. This walk is
 * iterative (its stack is at most `depthMax` levels, whatever the input), touches each byte
 * once, and names the path of the first value out of bounds.
 *
 * Accepted: maps with string keys, arrays, strings, bytes, nil, booleans, integers within
 * signed 64 bits, finite floats, and msgpackr's `undefined` (fixext 1, type 0). Refused: any
 * other extension type (timestamps, records, big integers…), NaN and infinities, integers
 * beyond signed 64 bits, and the bounds below.
 */
export interface MsgpackBounds {
  readonly depthMax: number;
  readonly mapEntriesMax: number;
  readonly arrayLengthMax: number;
  readonly nodesMax: number;
}

export const sessionRequestBounds: MsgpackBounds = {
  depthMax: limits.sessionRequestDepthMax,
  mapEntriesMax: limits.sessionRequestMapEntriesMax,
  arrayLengthMax: limits.sessionRequestArrayLengthMax,
  nodesMax: limits.sessionRequestNodesMax,
};

/**
 * `unreadable`: not one well-formed msgpack value (truncated, a reserved byte, trailing bytes).
 * `out-of-bounds`: well-formed, but a value the bounds or the accepted types exclude.
 * `path` is like `matcher.tests[0].equals` (empty for the top-level value).
 */
export type MsgpackViolation = { readonly kind: "unreadable" | "out-of-bounds"; readonly path: string; readonly detail: string };

type Head =
  | { readonly kind: "scalar"; readonly end: number }
  | { readonly kind: "int"; readonly value: number | bigint; readonly end: number }
  | { readonly kind: "float"; readonly value: number; readonly end: number }
  | { readonly kind: "string"; readonly start: number; readonly end: number }
  | { readonly kind: "array" | "map"; readonly count: number; readonly end: number }
  | { readonly kind: "ext"; readonly type: number; readonly start: number; readonly end: number }
  | { readonly kind: "unreadable"; readonly detail: string };

interface Level {
  readonly isMap: boolean;
  readonly count: number;
  /** Items still to read; a map's entries count twice (key and value). */
  remaining: number;
  /** The key of the map entry being read, for paths. */
  key: string;
}

const int64Max = 2n ** 63n - 1n;

export function checkMsgpack(bytes: Uint8Array, bounds: MsgpackBounds): MsgpackViolation | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const levels: Level[] = [];
  let at = 0;
  let nodes = 0;
  // Every turn reads one head of at least one byte, so the loop ends within bytes.length turns.
  do {
    const level = levels[levels.length - 1];
    const isKey = level !== undefined && level.isMap && level.remaining % 2 === 0;
    if (level !== undefined) level.remaining -= 1;
    const head = readHead(bytes, view, at);
    if (head.kind === "unreadable") return { kind: "unreadable", path: pathOf(levels, isKey), detail: head.detail };
    nodes += 1;
    const problem = nodes > bounds.nodesMax ? `more than ${bounds.nodesMax} values in one request` : refusal(head, isKey, levels.length, bounds);
    if (problem !== null) return { kind: "out-of-bounds", path: pathOf(levels, isKey), detail: problem };
    at = head.end;
    if (isKey && head.kind === "string") level.key = keyText(bytes, head.start, head.end);
    if ((head.kind === "array" || head.kind === "map") && head.count > 0) {
      levels.push({ isMap: head.kind === "map", count: head.count, remaining: head.kind === "map" ? 2 * head.count : head.count, key: "" });
    }
    while (levels.length > 0 && (levels[levels.length - 1] as Level).remaining === 0) levels.pop();
  } while (levels.length > 0);
  if (at !== bytes.length) return { kind: "unreadable", path: "", detail: `${bytes.length - at} bytes after the end of the value` };
  return null;
}

/** What excludes this value, or null. `depth`: levels open around it. */
function refusal(head: Exclude<Head, { kind: "unreadable" }>, isKey: boolean, depth: number, bounds: MsgpackBounds): string | null {
  if (isKey && head.kind !== "string") return "a map key must be a string";
  switch (head.kind) {
    case "array":
    case "map":
      if (depth + 1 > bounds.depthMax) return `nested deeper than ${bounds.depthMax} levels of maps and arrays`;
      if (head.kind === "map" && head.count > bounds.mapEntriesMax) return `a map of ${head.count} entries; at most ${bounds.mapEntriesMax}`;
      if (head.kind === "array" && head.count > bounds.arrayLengthMax) return `an array of ${head.count} elements; at most ${bounds.arrayLengthMax}`;
      return null;
    case "float":
      return Number.isFinite(head.value) ? null : `${String(head.value)} is not accepted; send a finite number`;
    case "int":
      return typeof head.value === "bigint" && head.value > int64Max ? "an integer beyond signed 64 bits" : null;
    case "ext":
      // msgpackr writes `undefined` (an optional field left undefined) as fixext 1 of type 0.
      if (head.type === 0 && head.end - head.start === 1) return null;
      return `msgpack extension type ${head.type} is not accepted (only maps, arrays, strings, bytes, numbers, booleans and nil)`;
    case "scalar":
    case "string":
      return null;
  }
}

/** Where the value being read sits, e.g. `matcher.tests[0].equals`; a key is located at its map. */
function pathOf(levels: readonly Level[], readingKey: boolean): string {
  let path = "";
  for (const [index, level] of levels.entries()) {
    if (level.isMap) {
      if (readingKey && index === levels.length - 1) break;
      path += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(level.key) ? `${path === "" ? "" : "."}${level.key}` : `[${JSON.stringify(level.key)}]`;
    } else {
      path += `[${level.count - level.remaining - 1}]`;
    }
  }
  return path.length > pathLengthShownMax ? `${path.slice(0, pathLengthShownMax)}…` : path;
}

/** Characters of a path or key shown in an error; a hostile one may be megabytes long. */
const pathLengthShownMax = 240;
const keyBytesShownMax = 64;
const utf8 = new TextDecoder();

function keyText(bytes: Uint8Array, start: number, end: number): string {
  return utf8.decode(bytes.subarray(start, Math.min(end, start + keyBytesShownMax)));
}

/**
 * The top-level `type` and `requestId` of a request that failed the walk, so its error can be
 * answered to the right request. Skips values with a counter instead of a stack (nothing here
 * is bounded yet), and gives up quietly at the first unreadable byte.
 */
export function peekRequestFields(bytes: Uint8Array): { readonly isMap: boolean; readonly type: string | null; readonly requestId: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const root = readHead(bytes, view, 0);
  if (root.kind !== "map") return { isMap: false, type: null, requestId: 0 };
  let type: string | null = null;
  let requestId = 0;
  let at = root.end;
  for (let entry = 0; entry < root.count; entry += 1) {
    const key = readHead(bytes, view, at);
    if (key.kind !== "string") break;
    const name = key.end - key.start <= 16 ? utf8.decode(bytes.subarray(key.start, key.end)) : null;
    const value = readHead(bytes, view, key.end);
    if (name === "requestId" && value.kind === "int" && typeof value.value === "number" && value.value >= 1) requestId = value.value;
    if (name === "requestId" && value.kind === "float" && Number.isSafeInteger(value.value) && value.value >= 1) requestId = value.value;
    if (name === "type" && value.kind === "string" && value.end - value.start <= 32) type = utf8.decode(bytes.subarray(value.start, value.end));
    const next = skipValue(bytes, view, key.end);
    if (next < 0) break;
    at = next;
  }
  return { isMap: true, type, requestId };
}

/** The offset after the value at `at`, or -1 if it is unreadable. */
function skipValue(bytes: Uint8Array, view: DataView, at: number): number {
  let pending = 1;
  let position = at;
  while (pending > 0) {
    const head = readHead(bytes, view, position);
    if (head.kind === "unreadable") return -1;
    pending += head.kind === "array" ? head.count - 1 : head.kind === "map" ? 2 * head.count - 1 : -1;
    position = head.end;
  }
  return position;
}

const truncated: Head = { kind: "unreadable", detail: "truncated msgpack" };

/** Fixed-width numbers by their marker byte: payload bytes, how to read them, int or float. */
const numbers = new Map<number, readonly [width: number, read: (view: DataView, at: number) => number | bigint, kind: "int" | "float"]>([
  [0xca, [4, (view, at) => view.getFloat32(at), "float"]],
  [0xcb, [8, (view, at) => view.getFloat64(at), "float"]],
  [0xcc, [1, (view, at) => view.getUint8(at), "int"]],
  [0xcd, [2, (view, at) => view.getUint16(at), "int"]],
  [0xce, [4, (view, at) => view.getUint32(at), "int"]],
  [0xcf, [8, (view, at) => view.getBigUint64(at), "int"]],
  [0xd0, [1, (view, at) => view.getInt8(at), "int"]],
  [0xd1, [2, (view, at) => view.getInt16(at), "int"]],
  [0xd2, [4, (view, at) => view.getInt32(at), "int"]],
  [0xd3, [8, (view, at) => view.getBigInt64(at), "int"]],
]);

/** The head of the value at `at`: its kind, and where it (or, for a container, its header) ends. */
function readHead(bytes: Uint8Array, view: DataView, at: number): Head {
  if (at >= bytes.length) return truncated;
  const byte = bytes[at] as number;
  if (byte <= 0x7f) return { kind: "int", value: byte, end: at + 1 };
  if (byte >= 0xe0) return { kind: "int", value: byte - 0x100, end: at + 1 };
  if (byte <= 0x8f) return { kind: "map", count: byte & 0x0f, end: at + 1 };
  if (byte <= 0x9f) return { kind: "array", count: byte & 0x0f, end: at + 1 };
  if (byte <= 0xbf) return stringHead(bytes, at + 1, byte & 0x1f);
  if (byte === 0xc0 || byte === 0xc2 || byte === 0xc3) return { kind: "scalar", end: at + 1 };
  if (byte === 0xc1) return { kind: "unreadable", detail: "the reserved byte 0xc1" };
  const number = numbers.get(byte);
  if (number !== undefined) {
    const [width, read, kind] = number;
    if (at + 1 + width > bytes.length) return truncated;
    const value = read(view, at + 1);
    return kind === "int" ? { kind, value, end: at + 1 + width } : { kind, value: Number(value), end: at + 1 + width };
  }
  if (byte >= 0xd4 && byte <= 0xd8) {
    // fixext 1, 2, 4, 8, 16: a type byte, then the data.
    if (at + 1 >= bytes.length) return truncated;
    return within(bytes, { kind: "ext", type: view.getInt8(at + 1), start: at + 2, end: at + 2 + 2 ** (byte - 0xd4) });
  }
  // The rest carry a length (or count) of 1, 2 or 4 bytes after the marker.
  const width = byte === 0xc4 || byte === 0xc7 || byte === 0xd9 ? 1 : byte === 0xc5 || byte === 0xc8 || byte === 0xda || byte === 0xdc || byte === 0xde ? 2 : 4;
  if (at + 1 + width > bytes.length) return truncated;
  const length = width === 1 ? view.getUint8(at + 1) : width === 2 ? view.getUint16(at + 1) : view.getUint32(at + 1);
  const after = at + 1 + width;
  if (byte <= 0xc6) return within(bytes, { kind: "scalar", end: after + length });
  if (byte <= 0xc9) {
    if (after >= bytes.length) return truncated;
    return within(bytes, { kind: "ext", type: view.getInt8(after), start: after + 1, end: after + 1 + length });
  }
  if (byte <= 0xdb) return stringHead(bytes, after, length);
  return { kind: byte <= 0xdd ? "array" : "map", count: length, end: after };
}

function stringHead(bytes: Uint8Array, start: number, length: number): Head {
  return within(bytes, { kind: "string", start, end: start + length });
}

function within(bytes: Uint8Array, head: Head): Head {
  return "end" in head && head.end > bytes.length ? truncated : head;
}
