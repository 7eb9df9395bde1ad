/**
 * A compiled matcher as plain, exactly round-tripping data, for the consensus log (the
 * create-durable command) and snapshots. A MatcherSpec cannot go through msgpack as it is:
 * `equals: 5n` (an int) and nested messages (Maps) would come back as other types. The wire
 * form keeps each test's kind and path, an `equals` operand as a one-field message in the
 * canonical message encoding, and a subject pattern as its source.
 */
import { decodeMessage, encodeMessage } from "./message-codec.js";
import type { Matcher, MatcherSpec, FieldTestSpec } from "./matcher.js";
import type { Value } from "./message.js";

const operandField = "v";

export type WireTest =
  | readonly [kind: "equals", field: string, operand: Uint8Array]
  | readonly [kind: "present" | "absent", field: string]
  | readonly [kind: "subject", field: string, pattern: string];

export function matcherToWire(matcher: Matcher): WireTest[] {
  return matcher.tests.map((test): WireTest => {
    const field = test.path.join(".");
    switch (test.kind) {
      case "equals":
        return ["equals", field, encodeMessage(new Map<string, Value>([[operandField, test.value]]))];
      case "present":
      case "absent":
        return [test.kind, field];
      case "subject":
        return ["subject", field, test.pattern.source];
    }
  });
}

/** The spec that compiles to the same matcher, or an error naming what is malformed. */
export function wireToSpec(wire: unknown): { ok: true; spec: MatcherSpec } | { ok: false; error: string } {
  if (!Array.isArray(wire)) return { ok: false, error: "matcher tests: not an array" };
  const tests: FieldTestSpec[] = [];
  for (const [index, test] of (wire as unknown[]).entries()) {
    if (!Array.isArray(test) || typeof test[1] !== "string") return { ok: false, error: `matcher test ${index}: not [kind, field, …]` };
    const [kind, field, operand] = test as [unknown, string, unknown];
    if ((kind === "present" || kind === "absent") && test.length === 2) tests.push(kind === "present" ? { field, present: true } : { field, absent: true });
    else if (kind === "subject" && typeof operand === "string" && test.length === 3) tests.push({ field, subject: operand });
    else if (kind === "equals" && operand instanceof Uint8Array && test.length === 3) {
      const decoded = decodeMessage(operand);
      const value = decoded.ok ? decoded.message.get(operandField) : undefined;
      if (value === undefined || (decoded.ok && decoded.message.size !== 1)) return { ok: false, error: `matcher test ${index}: malformed equals operand` };
      tests.push({ field, equals: value });
    } else return { ok: false, error: `matcher test ${index}: unknown kind or arity` };
  }
  return { ok: true, spec: { tests } };
}
