/**
 * Content matchers: a conjunction of field tests (equals, present, absent, subject pattern).
 * A subject pattern is just a field test on a string field, so subject-based and content-based
 * interest are one mechanism. `compileMatcher` validates a spec from outside (errors are
 * values naming what is wrong) and returns a pure predicate.
 */
import { matcherLimits, messageLimits, type MatcherLimits } from "./limits.js";
import { describe, fromPlain, isFieldName, valuesEqual, type Message, type PlainValue, type Value } from "./message.js";
import { validateValue } from "./message-validation.js";
import { compileSubjectPattern, subjectMatches, type SubjectPattern } from "./subject.js";

/** The field the `subject` shorthand tests unless `subjectField` names another. */
export const defaultSubjectField = "subject";

/**
 * A field test as a client writes it. `field` is a dotted path into nested messages
 * (`customer.region`). `equals` takes a tagged value or a plain string, bigint (int),
 * number (float) or boolean, by the typing rules of `message()`.
 */
export type FieldTestSpec =
  | { readonly field: string; readonly equals: Value | PlainValue }
  | { readonly field: string; readonly present: true }
  | { readonly field: string; readonly absent: true }
  | { readonly field: string; readonly subject: string };

/** All tests must hold; an empty spec matches every message. */
export type MatcherSpec = {
  /** Shorthand for `{ field: subjectField, subject: pattern }`. */
  readonly subject?: string;
  readonly subjectField?: string;
  readonly tests?: readonly FieldTestSpec[];
};

export type FieldTest =
  | { readonly kind: "equals"; readonly path: readonly string[]; readonly value: Value }
  | { readonly kind: "present"; readonly path: readonly string[] }
  | { readonly kind: "absent"; readonly path: readonly string[] }
  | { readonly kind: "subject"; readonly path: readonly string[]; readonly pattern: SubjectPattern };

export type Matcher = { readonly tests: readonly FieldTest[]; readonly matches: (message: Message) => boolean };

/** `at` locates the problem in the spec, e.g. `tests[2].subject`. */
export type MatcherError = { readonly at: string; readonly detail: string };

export type MatcherResult = { readonly ok: true; readonly matcher: Matcher } | { readonly ok: false; readonly errors: readonly MatcherError[] };

const specKeys = new Set(["subject", "subjectField", "tests"]);
const testKinds = ["equals", "present", "absent", "subject"] as const;

export function compileMatcher(spec: unknown, limits: MatcherLimits = matcherLimits): MatcherResult {
  const errors: MatcherError[] = [];
  const tests: FieldTest[] = [];
  if (!isRecord(spec)) return { ok: false, errors: [{ at: "", detail: `a matcher must be an object, got ${describe(spec)}` }] };
  for (const key of Object.keys(spec)) if (!specKeys.has(key)) errors.push({ at: key, detail: `unknown matcher key; expected subject, subjectField or tests` });

  const testSpecs: unknown[] = [];
  if (spec.tests !== undefined) {
    if (!Array.isArray(spec.tests)) errors.push({ at: "tests", detail: `an array of field tests, got ${describe(spec.tests)}` });
    else testSpecs.push(...(spec.tests as unknown[]));
  }
  if (spec.subjectField !== undefined && spec.subject === undefined) errors.push({ at: "subjectField", detail: "subjectField without subject" });
  const shorthandCount = spec.subject === undefined ? 0 : 1;
  if (testSpecs.length + shorthandCount > limits.fieldTestsMax) {
    errors.push({ at: "tests", detail: `at most ${limits.fieldTestsMax} field tests` });
    return { ok: false, errors };
  }
  if (spec.subject !== undefined) {
    const field = spec.subjectField ?? defaultSubjectField;
    const test = compileTest({ field, subject: spec.subject }, limits, (at, detail) => {
      errors.push({ at: at === "field" ? "subjectField" : "subject", detail });
    });
    if (test !== undefined) tests.push(test);
  }
  for (const [index, testSpec] of testSpecs.entries()) {
    const test = compileTest(testSpec, limits, (at, detail) => errors.push({ at: `tests[${index}]${at === "" ? "" : `.${at}`}`, detail }));
    if (test !== undefined) tests.push(test);
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, matcher: { tests, matches: (message) => tests.every((test) => testHolds(test, message)) } };
}

/** The errors of a matcher that did not compile, in one line for an error answer. */
export function describeMatcherErrors(errors: readonly MatcherError[]): string {
  return errors.map((error) => (error.at === "" ? error.detail : `${error.at}: ${error.detail}`)).join("; ");
}

type Report = (at: string, detail: string) => void;

function compileTest(spec: unknown, limits: MatcherLimits, report: Report): FieldTest | undefined {
  if (!isRecord(spec)) return void report("", `a field test must be an object, got ${describe(spec)}`);
  const kinds = testKinds.filter((kind) => kind in spec);
  for (const key of Object.keys(spec)) {
    if (key !== "field" && !(testKinds as readonly string[]).includes(key)) report(key, `unknown field test; expected one of ${testKinds.join(", ")}`);
  }
  const path = compilePath(spec.field, limits, report);
  if (kinds.length !== 1) return void report("", `exactly one of ${testKinds.join(", ")} per field test, got ${kinds.length === 0 ? "none" : kinds.join(" and ")}`);
  const kind = kinds[0] as (typeof testKinds)[number];
  switch (kind) {
    case "present":
    case "absent":
      if (spec[kind] !== true) return void report(kind, `${kind} must be true`);
      return path && { kind, path };
    case "subject": {
      const compiled = compileSubjectPattern(spec.subject, limits);
      if (!compiled.ok) return void report("subject", compiled.detail);
      return path && { kind, path, pattern: compiled.pattern };
    }
    case "equals": {
      const value = compileOperand(spec.equals, report);
      return path && value && { kind, path, value };
    }
  }
}

function compilePath(field: unknown, limits: MatcherLimits, report: Report): string[] | undefined {
  if (typeof field !== "string") return void report("field", `a field path string, got ${describe(field)}`);
  const names = field.split(".");
  if (names.length > limits.fieldPathLengthMax) return void report("field", `a path of at most ${limits.fieldPathLengthMax} names`);
  const bad = names.find((name) => !isFieldName(name, messageLimits));
  if (bad !== undefined) return void report("field", `invalid field name ${JSON.stringify(bad)} in path ${JSON.stringify(field)}`);
  return names;
}

function compileOperand(operand: unknown, report: Report): Value | undefined {
  switch (typeof operand) {
    case "string":
    case "bigint":
    case "number":
    case "boolean":
      return fromPlain(operand);
  }
  const errors = validateValue(operand, "equals");
  if (errors.length > 0) {
    for (const error of errors) report(error.path, `expected ${error.expected}`);
    return undefined;
  }
  return operand as Value;
}

function testHolds(test: FieldTest, message: Message): boolean {
  const value = resolvePath(message, test.path);
  switch (test.kind) {
    case "present":
      return value !== undefined;
    case "absent":
      return value === undefined;
    case "equals":
      return value !== undefined && valuesEqual(test.value, value);
    case "subject":
      return value?.type === "string" && subjectMatches(test.pattern, value.value);
  }
}

/** The value at a dotted path, or undefined when a step is missing or not a nested message. */
export function resolvePath(message: Message, path: readonly string[]): Value | undefined {
  let current: Message = message;
  for (const [index, name] of path.entries()) {
    const value = current.get(name);
    if (value === undefined || index === path.length - 1) return value;
    if (value.type !== "message") return undefined;
    current = value.value;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Map);
}
