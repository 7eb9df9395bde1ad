/**
 * The Holdfast message: a set of named, typed fields. Every value carries its type tag so that
 * a field's type is explicit (int 5 is not float 5 is not string "5") and survives the codec
 * exactly. Messages are immutable maps; field order carries no meaning (the codec sorts names).
 */
import { messageLimits, type MessageLimits } from "./limits.js";

/** A value that can stand alone in a field or be an element of an array field. */
export type ElementValue =
  | { readonly type: "string"; readonly value: string }
  /** Signed 64-bit integer. */
  | { readonly type: "int"; readonly value: bigint }
  /** IEEE-754 double; compared with Object.is (NaN equals NaN, 0 differs from -0). */
  | { readonly type: "float"; readonly value: number }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "bytes"; readonly value: Uint8Array }
  /** Nanoseconds since the Unix epoch, UTC, signed 64-bit (years 1677 to 2262). */
  | { readonly type: "timestamp"; readonly value: bigint }
  | { readonly type: "message"; readonly value: Message };

export type ElementType = ElementValue["type"];

/** A homogeneous array; the element type is explicit so an empty array is still typed. */
export type ArrayValue = {
  readonly type: "array";
  readonly elementType: ElementType;
  readonly values: readonly ElementValue[];
};

export type Value = ElementValue | ArrayValue;
export type ValueType = Value["type"];

/** Field name to value. Names follow `isFieldName`. */
export type Message = ReadonlyMap<string, Value>;

export const elementTypes: readonly ElementType[] = ["string", "int", "float", "bool", "bytes", "timestamp", "message"];

export const int64Min = -(2n ** 63n);
export const int64Max = 2n ** 63n - 1n;

const fieldNamePattern = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A field name is ASCII letters, digits, `_` and `-`, not starting with a digit or `-`, and
 * 1..fieldNameLengthMax long. No `.`: matchers use dotted paths into nested messages.
 */
export function isFieldName(name: string, limits: MessageLimits = messageLimits): boolean {
  return name.length >= 1 && name.length <= limits.fieldNameLengthMax && fieldNamePattern.test(name);
}

// --- constructors --------------------------------------------------------------------------

export const string = (value: string): ElementValue => ({ type: "string", value });
/** A 64-bit integer; a number argument must be a safe integer. */
export const int = (value: bigint | number): ElementValue => ({ type: "int", value: toBigInt(value, "int") });
export const float = (value: number): ElementValue => ({ type: "float", value });
export const bool = (value: boolean): ElementValue => ({ type: "bool", value });
export const bytes = (value: Uint8Array): ElementValue => ({ type: "bytes", value });
/** A timestamp from epoch nanoseconds (bigint) or a Date (millisecond precision). */
export const timestamp = (value: bigint | Date): ElementValue => ({
  type: "timestamp",
  value: value instanceof Date ? dateToNanoseconds(value) : value,
});
export const nested = (value: Message): ElementValue => ({ type: "message", value });
export const array = (elementType: ElementType, values: readonly (ElementValue | PlainElement)[]): ArrayValue => ({
  type: "array",
  elementType,
  values: values.map((element, index) => {
    const tagged = fromPlainElement(element, `[${index}]`);
    if (tagged.type !== elementType) throw new TypeError(`[${index}]: expected ${elementType}, got ${tagged.type}`);
    return tagged;
  }),
});

function toBigInt(value: bigint | number, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value)) throw new TypeError(`${what}: ${value} is not a safe integer; pass a bigint`);
  return BigInt(value);
}

function dateToNanoseconds(date: Date): bigint {
  const milliseconds = date.getTime();
  if (Number.isNaN(milliseconds)) throw new TypeError("timestamp: invalid Date");
  return BigInt(milliseconds) * 1_000_000n;
}

/**
 * Plain JavaScript accepted by `message()`. The typing rules, with no guessing:
 * string → string, bigint → int, number → float (always; use `int(5)` or `5n` for integers),
 * boolean → bool, Uint8Array → bytes, Date → timestamp, a Message (Map) → nested message,
 * a tagged value (`{ type: "int", value: 5n }`, or from the constructors) → itself,
 * an array → array whose element type is that of its elements (all alike; an empty array
 * needs `array(type, [])`). A plain object is always read as a tagged value, never as a nested
 * message: nest with `message({...})`.
 */
export type PlainElement = string | bigint | number | boolean | Uint8Array | Date | Message | ElementValue;
export type PlainValue = PlainElement | ArrayValue | readonly (PlainElement)[];

/** Build a message from plain JavaScript (see `PlainValue`); throws TypeError on misuse. */
export function message(fields: Readonly<Record<string, PlainValue>>): Message {
  const result = new Map<string, Value>();
  for (const [name, plain] of Object.entries(fields)) {
    if (!isFieldName(name)) throw new TypeError(`invalid field name ${JSON.stringify(name)}`);
    result.set(name, fromPlain(plain, name));
  }
  return result;
}

/** Convert one plain value by the rules of `message()`; throws TypeError naming `path`. */
export function fromPlain(plain: PlainValue, path = "value"): Value {
  if (Array.isArray(plain)) {
    const elements = (plain as readonly PlainElement[]).map((element, index) => fromPlainElement(element, `${path}[${index}]`));
    const first = elements[0];
    if (first === undefined) throw new TypeError(`${path}: an empty array needs an explicit element type: array(type, [])`);
    for (const [index, element] of elements.entries()) {
      if (element.type !== first.type) throw new TypeError(`${path}[${index}]: expected ${first.type} like element 0, got ${element.type}`);
    }
    return { type: "array", elementType: first.type, values: elements };
  }
  if (isTaggedObject(plain) && plain.type === "array") return plain as ArrayValue;
  return fromPlainElement(plain as PlainElement, path);
}

function fromPlainElement(plain: PlainElement, path: string): ElementValue {
  switch (typeof plain) {
    case "string":
      return string(plain);
    case "bigint":
      return int(plain);
    case "number":
      return float(plain);
    case "boolean":
      return bool(plain);
  }
  if (plain instanceof Uint8Array) return bytes(plain);
  if (plain instanceof Date) return timestamp(plain);
  if (plain instanceof Map) return nested(plain);
  if (isTaggedObject(plain) && (plain as Value).type !== "array") return plain as ElementValue;
  throw new TypeError(`${path}: cannot type ${describe(plain)}; use a constructor such as int(), nested(message({...}))`);
}

function isTaggedObject(value: unknown): value is Value {
  return typeof value === "object" && value !== null && !(value instanceof Map) && typeof (value as { type?: unknown }).type === "string";
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Map) return "a Map";
  if (value instanceof Uint8Array) return "a Uint8Array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

// --- equality ------------------------------------------------------------------------------

/**
 * Type-aware equality: values of different types are never equal (int 5 ≠ float 5 ≠ string
 * "5"). Floats compare with Object.is so equality agrees with the codec's exact round trip.
 */
export function valuesEqual(left: Value, right: Value): boolean {
  switch (left.type) {
    case "string":
    case "bool":
    case "int":
    case "timestamp":
      return right.type === left.type && right.value === left.value;
    case "float":
      return right.type === "float" && Object.is(left.value, right.value);
    case "bytes":
      return right.type === "bytes" && bytesEqual(left.value, right.value);
    case "message":
      return right.type === "message" && messagesEqual(left.value, right.value);
    case "array":
      return (
        right.type === "array" &&
        right.elementType === left.elementType &&
        right.values.length === left.values.length &&
        left.values.every((element, index) => valuesEqual(element, right.values[index] as ElementValue))
      );
  }
}

export function messagesEqual(left: Message, right: Message): boolean {
  if (left.size !== right.size) return false;
  for (const [name, value] of left) {
    const other = right.get(name);
    if (other === undefined || !valuesEqual(value, other)) return false;
  }
  return true;
}

function bytesEqual(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

// --- size ----------------------------------------------------------------------------------

/** Encoded size in bytes of `message` under message-codec.ts (format byte included). */
export function messageBytes(message: Message): number {
  return 1 + bodyBytes(message);
}

function bodyBytes(message: Message): number {
  let total = varintBytes(message.size);
  for (const [name, value] of message) total += varintBytes(name.length) + name.length + valueBytes(value);
  return total;
}

function valueBytes(value: Value): number {
  if (value.type !== "array") return 1 + payloadBytes(value);
  let total = 2 + varintBytes(value.values.length);
  for (const element of value.values) total += payloadBytes(element);
  return total;
}

function payloadBytes(value: ElementValue): number {
  switch (value.type) {
    case "string": {
      const length = utf8Length(value.value);
      return varintBytes(length) + length;
    }
    case "int":
    case "timestamp":
      return bigVarintBytes(zigzag(value.value));
    case "float":
      return 8;
    case "bool":
      return 1;
    case "bytes":
      return varintBytes(value.value.length) + value.value.length;
    case "message":
      return bodyBytes(value.value);
  }
}

/** Bytes of an unsigned LEB128 varint for a non-negative safe integer. */
export function varintBytes(value: number): number {
  let count = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    count += 1;
  }
  return count;
}

export function bigVarintBytes(value: bigint): number {
  let count = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    count += 1;
  }
  return count;
}

/** Signed 64-bit to unsigned, small magnitudes to small numbers. */
export function zigzag(value: bigint): bigint {
  return value >= 0n ? value << 1n : ((-value) << 1n) - 1n;
}

export function unzigzag(value: bigint): bigint {
  return (value & 1n) === 0n ? value >> 1n : -((value + 1n) >> 1n);
}

/** UTF-8 length of a well-formed string (see `isWellFormedString`). */
export function utf8Length(text: string): number {
  let length = 0;
  for (let at = 0; at < text.length; at++) {
    const unit = text.charCodeAt(at);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      length += 4;
      at += 1;
    } else length += 3;
  }
  return length;
}

/** No lone surrogates: such a string cannot be encoded as UTF-8 and would not round-trip. */
export function isWellFormedString(text: string): boolean {
  for (let at = 0; at < text.length; at++) {
    const unit = text.charCodeAt(at);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(at + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      at += 1;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return false;
  }
  return true;
}
