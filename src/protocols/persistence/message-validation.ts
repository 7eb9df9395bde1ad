/**
 * Validation of a message that came from outside (a client, a decoded frame): bad input is an
 * error value naming the field path and what was expected, never a crash.
 */
import { messageLimits, type MessageLimits } from "./limits.js";
import {
  describe,
  elementTypes,
  int64Max,
  int64Min,
  isFieldName,
  isWellFormedString,
  messageBytes,
  type ElementType,
  type Message,
} from "./message.js";

/** One problem: `path` is like `order.items[2].price` (empty for the message itself). */
export type FieldError = { readonly path: string; readonly expected: string };

export type ValidationResult =
  | { readonly ok: true; readonly message: Message }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/** Errors reported at most; a hostile message must not produce an unbounded error list. */
export const validationErrorsMax = 16;

export function validateMessage(value: unknown, limits: MessageLimits = messageLimits): ValidationResult {
  const errors: FieldError[] = [];
  const report = (path: string, expected: string): void => {
    if (errors.length < validationErrorsMax) errors.push({ path, expected });
  };
  checkMessage(value, "", 1, limits, report);
  if (errors.length > 0) return { ok: false, errors };
  const message = value as Message;
  const size = messageBytes(message);
  if (size > limits.messageBytesMax) {
    return { ok: false, errors: [{ path: "", expected: `at most ${limits.messageBytesMax} encoded bytes, got ${size}` }] };
  }
  return { ok: true, message };
}

/** Validate one field value (for matcher operands); `path` names it in errors. */
export function validateValue(value: unknown, path: string, limits: MessageLimits = messageLimits): readonly FieldError[] {
  const errors: FieldError[] = [];
  checkValue(value, path, 1, limits, (at, expected) => {
    if (errors.length < validationErrorsMax) errors.push({ path: at, expected });
  });
  return errors;
}

type Report = (path: string, expected: string) => void;

function checkMessage(value: unknown, path: string, depth: number, limits: MessageLimits, report: Report): void {
  if (!(value instanceof Map)) return report(path, `a message (Map of field name to tagged value), got ${describe(value)}`);
  if (depth > limits.nestingDepthMax) return report(path, `nesting depth at most ${limits.nestingDepthMax}`);
  if (value.size > limits.fieldsPerMessageMax) return report(path, `at most ${limits.fieldsPerMessageMax} fields, got ${value.size}`);
  for (const [name, field] of value as Map<unknown, unknown>) {
    if (typeof name !== "string" || !isFieldName(name, limits)) {
      report(joinPath(path, String(name)), `a field name of 1..${limits.fieldNameLengthMax} characters [A-Za-z0-9_-], not starting with a digit or '-'`);
      continue;
    }
    checkValue(field, joinPath(path, name), depth, limits, report);
  }
}

function checkValue(value: unknown, path: string, depth: number, limits: MessageLimits, report: Report): void {
  if (typeof value !== "object" || value === null || value instanceof Map || Array.isArray(value)) {
    return report(path, `a tagged value { type, value }, got ${describe(value)}`);
  }
  const tagged = value as { type?: unknown; value?: unknown; elementType?: unknown; values?: unknown };
  if (tagged.type === "array") return checkArray(tagged, path, depth, limits, report);
  if (typeof tagged.type !== "string" || !(elementTypes as readonly string[]).includes(tagged.type)) {
    return report(path, `a type among ${[...elementTypes, "array"].join(", ")}, got ${JSON.stringify(tagged.type) ?? "none"}`);
  }
  checkElement(tagged.type as ElementType, tagged.value, path, depth, limits, report);
}

function checkArray(
  tagged: { elementType?: unknown; values?: unknown },
  path: string,
  depth: number,
  limits: MessageLimits,
  report: Report,
): void {
  const elementType = tagged.elementType;
  if (typeof elementType !== "string" || !(elementTypes as readonly string[]).includes(elementType)) {
    return report(path, `an array element type among ${elementTypes.join(", ")} (no arrays of arrays), got ${JSON.stringify(elementType) ?? "none"}`);
  }
  if (!Array.isArray(tagged.values)) return report(path, `an array of values, got ${describe(tagged.values)}`);
  if (tagged.values.length > limits.arrayLengthMax) return report(path, `at most ${limits.arrayLengthMax} elements, got ${tagged.values.length}`);
  for (const [index, element] of (tagged.values as unknown[]).entries()) {
    const elementPath = `${path}[${index}]`;
    const elementTag = (element as { type?: unknown } | null)?.type;
    if (elementTag !== elementType) {
      report(elementPath, `a tagged ${elementType} like the array's element type, got ${JSON.stringify(elementTag) ?? describe(element)}`);
      continue;
    }
    checkElement(elementType as ElementType, (element as { value: unknown }).value, elementPath, depth, limits, report);
  }
}

function checkElement(type: ElementType, value: unknown, path: string, depth: number, limits: MessageLimits, report: Report): void {
  switch (type) {
    case "string":
      if (typeof value !== "string") return report(path, `a string, got ${describe(value)}`);
      if (!isWellFormedString(value)) return report(path, "a well-formed string (no lone surrogates)");
      return;
    case "int":
    case "timestamp":
      if (typeof value !== "bigint") return report(path, `${article(type)} as a bigint, got ${describe(value)}`);
      if (value < int64Min || value > int64Max) return report(path, `${article(type)} within signed 64 bits`);
      return;
    case "float":
      if (typeof value !== "number") return report(path, `a float as a number, got ${describe(value)}`);
      return;
    case "bool":
      if (typeof value !== "boolean") return report(path, `a bool, got ${describe(value)}`);
      return;
    case "bytes":
      if (!(value instanceof Uint8Array)) return report(path, `bytes as a Uint8Array, got ${describe(value)}`);
      return;
    case "message":
      return checkMessage(value, path, depth + 1, limits, report);
  }
}

function article(type: "int" | "timestamp"): string {
  return type === "int" ? "an int" : "a timestamp";
}

function joinPath(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}
