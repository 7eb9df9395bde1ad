import { message, timestamp, type Message, type PlainValue, type Value } from "../protocols/persistence/message.js";

/**
 * Messages on the command line are JSON objects. Typing rules (the JSON has fewer types than a
 * message): integers become `int`, other numbers `float`, strings `string`, booleans `bool`,
 * objects nested messages, arrays arrays; a string of the form "@ts:2026-01-01T00:00:00Z" is a
 * timestamp.
 */
export function messageFromJson(text: string): Message {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`message: expected a JSON object, found text that is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("message: expected a JSON object of fields");
  return message(plainFields(parsed as Record<string, unknown>));
}

function plainFields(object: Record<string, unknown>): Record<string, PlainValue> {
  return Object.fromEntries(Object.entries(object).map(([name, value]) => [name, plain(value, name)]));
}

function plain(value: unknown, path: string): PlainValue {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value;
  if (typeof value === "string") return value.startsWith("@ts:") ? timestamp(new Date(value.slice(4))) : value;
  if (typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((item, at) => plain(item, `${path}[${at}]`)) as PlainValue;
  if (typeof value === "object" && value !== null) return message(plainFields(value as Record<string, unknown>));
  throw new Error(`message field ${path}: expected a string, number, boolean, object or array, found ${value === null ? "null" : typeof value}`);
}

/** The other way, for printing: ints as numbers when exact (else strings), bytes as base64. */
export function messageToJson(value: Message): Record<string, unknown> {
  return Object.fromEntries([...value.entries()].map(([name, field]) => [name, valueToJson(field)]));
}

function valueToJson(value: Value): unknown {
  switch (value.type) {
    case "int":
      return value.value >= BigInt(Number.MIN_SAFE_INTEGER) && value.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value.value) : value.value.toString();
    case "timestamp":
      return new Date(Number(value.value / 1_000_000n)).toISOString();
    case "bytes":
      return Buffer.from(value.value).toString("base64");
    case "message":
      return messageToJson(value.value);
    case "array":
      return value.values.map((element) => valueToJson(element));
    default:
      return value.value;
  }
}
