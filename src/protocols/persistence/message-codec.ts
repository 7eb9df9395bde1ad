/**
 * The binary form of a message: compact, deterministic (one message has exactly one encoding,
 * and the decoder accepts only that one), pure code over Uint8Array and DataView.
 *
 *   message  = format:u8(=1) body
 *   body     = count:varint field*            fields sorted by name, names unique
 *   field    = nameLength:varint name:ascii value
 *   value    = tag:u8 payload | 8:u8 elementTag:u8 count:varint payload*   (8 = array)
 *   payload  = string: length:varint utf8 | int, timestamp: zigzag varint (64-bit)
 *            | float: f64 little-endian | bool: u8 0 or 1 | bytes: length:varint raw
 *            | message: body
 *
 * Varints are unsigned LEB128, minimal (an overlong form is rejected, keeping encodings
 * unique). `messageBytes` in message.ts computes the encoded length without encoding.
 */
import { messageLimits, type MessageLimits } from "./limits.js";
import {
  int64Max,
  int64Min,
  isFieldName,
  messageBytes,
  unzigzag,
  zigzag,
  type ElementType,
  type ElementValue,
  type Message,
  type Value,
} from "./message.js";

export const messageFormatVersion = 1;

const tagOf: Readonly<Record<ElementType | "array", number>> = {
  string: 1,
  int: 2,
  float: 3,
  bool: 4,
  bytes: 5,
  timestamp: 6,
  message: 7,
  array: 8,
};
const elementTypeOfTag: readonly (ElementType | undefined)[] = [undefined, "string", "int", "float", "bool", "bytes", "timestamp", "message"];
const arrayTag = tagOf.array;
/** The quiet NaN 0x7ff8000000000000, little-endian. */
const canonicalNaN = new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);

// --- encode --------------------------------------------------------------------------------

/** Encode a valid message (see `validateMessage`); an invalid one is a programmer error. */
export function encodeMessage(message: Message): Uint8Array {
  const output = new Uint8Array(messageBytes(message));
  const writer = { bytes: output, view: new DataView(output.buffer), offset: 0 };
  writer.bytes[writer.offset++] = messageFormatVersion;
  writeBody(writer, message);
  if (writer.offset !== output.length) throw new Error(`messageBytes disagrees with encoding: ${output.length} vs ${writer.offset}`);
  return output;
}

type Writer = { readonly bytes: Uint8Array; readonly view: DataView; offset: number };

const utf8Encoder = new TextEncoder();

function writeBody(writer: Writer, message: Message): void {
  writeVarint(writer, message.size);
  for (const name of sortedNames(message)) {
    writeVarint(writer, name.length);
    for (let at = 0; at < name.length; at++) writer.bytes[writer.offset++] = name.charCodeAt(at);
    writeValue(writer, message.get(name) as Value);
  }
}

function sortedNames(message: Message): string[] {
  // Names are ASCII, so UTF-16 order is byte order.
  return [...message.keys()].sort();
}

function writeValue(writer: Writer, value: Value): void {
  if (value.type === "array") {
    writer.bytes[writer.offset++] = arrayTag;
    writer.bytes[writer.offset++] = tagOf[value.elementType];
    writeVarint(writer, value.values.length);
    for (const element of value.values) writePayload(writer, element);
    return;
  }
  writer.bytes[writer.offset++] = tagOf[value.type];
  writePayload(writer, value);
}

function writePayload(writer: Writer, value: ElementValue): void {
  switch (value.type) {
    case "string": {
      const encoded = utf8Encoder.encode(value.value);
      writeVarint(writer, encoded.length);
      writer.bytes.set(encoded, writer.offset);
      writer.offset += encoded.length;
      return;
    }
    case "int":
    case "timestamp":
      return writeBigVarint(writer, zigzag(value.value));
    case "float":
      // One NaN on the wire (payload bits are not kept), so every message has one encoding.
      if (Number.isNaN(value.value)) writer.bytes.set(canonicalNaN, writer.offset);
      else writer.view.setFloat64(writer.offset, value.value, true);
      writer.offset += 8;
      return;
    case "bool":
      writer.bytes[writer.offset++] = value.value ? 1 : 0;
      return;
    case "bytes":
      writeVarint(writer, value.value.length);
      writer.bytes.set(value.value, writer.offset);
      writer.offset += value.value.length;
      return;
    case "message":
      return writeBody(writer, value.value);
  }
}

function writeVarint(writer: Writer, value: number): void {
  while (value >= 0x80) {
    writer.bytes[writer.offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  writer.bytes[writer.offset++] = value;
}

function writeBigVarint(writer: Writer, value: bigint): void {
  while (value >= 0x80n) {
    writer.bytes[writer.offset++] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  writer.bytes[writer.offset++] = Number(value);
}

// --- decode --------------------------------------------------------------------------------

export type DecodeErrorKind =
  /** The input ended inside a value. */
  | "truncated"
  /** A type tag this version does not know. */
  | "unknown-type"
  /** Over a limit: total size, field count, array length, nesting depth. */
  | "oversized"
  /** Anything else malformed: bad name, unsorted or repeated names, bad UTF-8, overlong varint. */
  | "invalid";

export type DecodeError = { readonly kind: DecodeErrorKind; readonly offset: number; readonly detail: string };

export type DecodeResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly error: DecodeError };

/** Decode and validate; never throws on bad input. */
export function decodeMessage(input: Uint8Array, limits: MessageLimits = messageLimits): DecodeResult {
  if (input.length > limits.messageBytesMax) {
    return { ok: false, error: { kind: "oversized", offset: 0, detail: `${input.length} bytes exceeds ${limits.messageBytesMax}` } };
  }
  const reader: Reader = { bytes: input, view: new DataView(input.buffer, input.byteOffset, input.byteLength), offset: 0, limits };
  try {
    const format = readByte(reader, "format version");
    if (format !== messageFormatVersion) fail(reader, "invalid", `unsupported format version ${format}`, 0);
    const message = readBody(reader, 1);
    if (reader.offset !== input.length) fail(reader, "invalid", `${input.length - reader.offset} trailing bytes`);
    return { ok: true, message };
  } catch (caught) {
    if (caught instanceof DecodeFailure) return { ok: false, error: caught.error };
    throw caught;
  }
}

/** Internal unwinding only: decodeMessage turns it into an error value. */
class DecodeFailure extends Error {
  constructor(readonly error: DecodeError) {
    super(error.detail);
  }
}

type Reader = { readonly bytes: Uint8Array; readonly view: DataView; offset: number; readonly limits: MessageLimits };

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function fail(reader: Reader, kind: DecodeErrorKind, detail: string, offset = reader.offset): never {
  throw new DecodeFailure({ kind, offset, detail });
}

function readBody(reader: Reader, depth: number): Message {
  if (depth > reader.limits.nestingDepthMax) fail(reader, "oversized", `nesting deeper than ${reader.limits.nestingDepthMax}`);
  const count = readVarint(reader, "field count");
  if (count > reader.limits.fieldsPerMessageMax) fail(reader, "oversized", `${count} fields exceeds ${reader.limits.fieldsPerMessageMax}`);
  const message = new Map<string, Value>();
  let previous: string | undefined;
  for (let index = 0; index < count; index++) {
    const nameOffset = reader.offset;
    const name = readFieldName(reader);
    if (previous !== undefined && name <= previous) fail(reader, "invalid", `field ${JSON.stringify(name)} out of order or repeated`, nameOffset);
    previous = name;
    message.set(name, readValue(reader, depth));
  }
  return message;
}

function readFieldName(reader: Reader): string {
  const start = reader.offset;
  const length = readVarint(reader, "field name length");
  if (length > reader.limits.fieldNameLengthMax) fail(reader, "invalid", `field name of ${length} bytes exceeds ${reader.limits.fieldNameLengthMax}`, start);
  const raw = take(reader, length, "field name");
  const name = String.fromCharCode(...raw);
  if (!isFieldName(name, reader.limits)) fail(reader, "invalid", `invalid field name ${JSON.stringify(name)}`, start);
  return name;
}

function readValue(reader: Reader, depth: number): Value {
  const tagOffset = reader.offset;
  const tag = readByte(reader, "type tag");
  if (tag === arrayTag) {
    const elementTag = readByte(reader, "array element type");
    const elementType = elementTypeOfTag[elementTag];
    if (elementType === undefined) fail(reader, "unknown-type", `unknown array element type tag ${elementTag}`, reader.offset - 1);
    const count = readVarint(reader, "array length");
    if (count > reader.limits.arrayLengthMax) fail(reader, "oversized", `${count} elements exceeds ${reader.limits.arrayLengthMax}`);
    const values: ElementValue[] = [];
    for (let index = 0; index < count; index++) values.push(readPayload(reader, elementType, depth));
    return { type: "array", elementType, values };
  }
  const type = elementTypeOfTag[tag];
  if (type === undefined) fail(reader, "unknown-type", `unknown type tag ${tag}`, tagOffset);
  return readPayload(reader, type, depth);
}

function readPayload(reader: Reader, type: ElementType, depth: number): ElementValue {
  switch (type) {
    case "string": {
      const start = reader.offset;
      const raw = take(reader, readVarint(reader, "string length"), "string");
      try {
        return { type, value: utf8Decoder.decode(raw) };
      } catch {
        return fail(reader, "invalid", "string is not valid UTF-8", start);
      }
    }
    case "int":
    case "timestamp":
      return { type, value: readInt64(reader, type) };
    case "float": {
      const raw = take(reader, 8, "float");
      const value = reader.view.getFloat64(reader.offset - 8, true);
      if (Number.isNaN(value) && !raw.every((byte, index) => byte === canonicalNaN[index])) {
        fail(reader, "invalid", "float NaN is not the canonical NaN", reader.offset - 8);
      }
      return { type, value };
    }
    case "bool": {
      const byte = readByte(reader, "bool");
      if (byte > 1) fail(reader, "invalid", `bool byte ${byte} is neither 0 nor 1`, reader.offset - 1);
      return { type, value: byte === 1 };
    }
    case "bytes":
      return { type, value: take(reader, readVarint(reader, "bytes length"), "bytes").slice() };
    case "message":
      return { type, value: readBody(reader, depth + 1) };
  }
}

function readByte(reader: Reader, what: string): number {
  const byte = reader.bytes[reader.offset];
  if (byte === undefined) fail(reader, "truncated", `input ended reading ${what}`);
  reader.offset += 1;
  return byte;
}

function take(reader: Reader, length: number, what: string): Uint8Array {
  if (length > reader.bytes.length - reader.offset) fail(reader, "truncated", `input ended inside ${what} of ${length} bytes`);
  const slice = reader.bytes.subarray(reader.offset, reader.offset + length);
  reader.offset += length;
  return slice;
}

/** A minimal varint of at most 32 bits (lengths and counts). */
function readVarint(reader: Reader, what: string): number {
  const start = reader.offset;
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = readByte(reader, what);
    if (shift === 28 && byte > 0x0f) fail(reader, "invalid", `${what} varint exceeds 32 bits`, start);
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      if (byte === 0 && shift > 0) fail(reader, "invalid", `${what} varint is not minimal`, start);
      return value;
    }
  }
}

/** A minimal zigzag varint of a signed 64-bit integer. */
function readInt64(reader: Reader, what: string): bigint {
  const start = reader.offset;
  let value = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const byte = readByte(reader, what);
    if (shift === 63n && byte > 0x01) fail(reader, "invalid", `${what} varint exceeds 64 bits`, start);
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) {
      if (byte === 0 && shift > 0n) fail(reader, "invalid", `${what} varint is not minimal`, start);
      const decoded = unzigzag(value);
      // Unreachable for 64-bit zigzag input, kept as a guard on the arithmetic above.
      if (decoded < int64Min || decoded > int64Max) fail(reader, "invalid", `${what} outside signed 64 bits`, start);
      return decoded;
    }
  }
}
