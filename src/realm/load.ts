/**
 * Reading a realm definition: YAML text within bounds (yaml-document.ts) → shape (schema.ts) →
 * cross-references (semantic-checks.ts), each step linear in the text. All or nothing: a realm
 * comes back only when there is no error at all, and otherwise the errors found are listed (the
 * first realmErrorsListedMax, and a count of the rest), each with its path and line/column.
 */
import { limits } from "../kernel/limits.js";
import { readFile } from "node:fs/promises";
import { isNode, type Document, type LineCounter } from "yaml";
import type { z } from "zod";
import { describeFound, formatPath, type PathSegment, type RealmError } from "./realm-error.js";
import { realmDefinitionSchema, type RealmDefinition } from "./schema.js";
import { checkRealmDefinition } from "./semantic-checks.js";
import { readYamlDocument } from "./yaml-document.js";

/** A definition larger than this is refused before parsing: real realms are a few KiB. */
export const realmDefinitionCharactersMax = limits.realmDefinitionCharactersMax;
/** YAML aliases expand; this bounds the expansion ("billion laughs"). */
const yamlAliasCountMax = limits.realmYamlAliasCountMax;

/**
 * `errors` holds at most realmErrorsListedMax errors, the first found; `errorsNotListed` counts
 * the others, so that 20,000 unknown keys make a short answer that says how many there were.
 */
export type RealmParseResult =
  | { ok: true; realm: RealmDefinition }
  | { ok: false; errors: RealmError[]; errorsNotListed: number };

/** `source` names the text in errors (a file path, or "inline"); it is not read. */
export function parseRealmDefinition(text: string, source: string): RealmParseResult {
  const steps = parseSteps(text, source);
  for (let step = steps.next(); ; step = steps.next()) if (step.done === true) return step.value;
}

/**
 * The same, giving the event loop a turn whenever a step boundary comes realmParseSliceMs or
 * more after the last turn: a server reading a large definition (a deploy) keeps answering
 * heartbeats. yaml's composer and zod each run as one step (see README.md for their cost).
 */
export async function parseRealmDefinitionAsync(text: string, source: string, sliceMs: number = limits.realmParseSliceMs): Promise<RealmParseResult> {
  const steps = parseSteps(text, source);
  let sliceStartMs = performance.now();
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done === true) return step.value;
    if (performance.now() - sliceStartMs < sliceMs) continue;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStartMs = performance.now();
  }
}

/** The reading, as steps: each `yield` is a point where an async reader may pause. */
function* parseSteps(text: string, source: string): Generator<void, RealmParseResult> {
  if (text.length > realmDefinitionCharactersMax) {
    return fail([{ path: "", expected: `a definition of at most ${realmDefinitionCharactersMax} characters`, found: `${text.length} characters in ${source}` }]);
  }
  const read = yield* readYamlDocument(text);
  if (!read.ok) return fail(read.errors);
  const { document, lineCounter } = read;
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: yamlAliasCountMax });
  } catch (error) {
    // yaml throws on excessive or unresolved aliases: the file is wrong, not the program.
    return fail([{ path: "", expected: "YAML whose aliases resolve within limits", found: firstLine(String(error)) }]);
  }
  yield;
  const parsed = realmDefinitionSchema.safeParse(data, { error: expectedPhrase });
  if (!parsed.success) return fail(shapeErrors(parsed.error.issues, data), document, lineCounter);
  yield;
  const semanticErrors = checkRealmDefinition(parsed.data);
  if (semanticErrors.length > 0) return fail(semanticErrors, document, lineCounter);
  return { ok: true, realm: parsed.data };
}

/** Reads and parses a file; an unreadable file is one error, like any other problem. */
export async function loadRealmDefinition(path: string): Promise<RealmParseResult> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return fail([{ path: "", expected: `a readable realm definition file at ${path}`, found: firstLine(String(error)) }]);
  }
  return parseRealmDefinition(text, path);
}

/** The first realmErrorsListedMax errors, located in `document` when given (only those: locating costs). */
function fail(errors: readonly RealmError[], document?: Document, lineCounter?: LineCounter): RealmParseResult {
  const listed = errors.slice(0, limits.realmErrorsListedMax);
  const located = document !== undefined && lineCounter !== undefined ? locate(listed, document, lineCounter) : listed;
  return { ok: false, errors: located, errorsNotListed: errors.length - listed.length };
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** Turns zod's issue codes into the "expected" half of our messages. */
function expectedPhrase(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return typeNames[issue.expected] ?? `a ${issue.expected}`;
    case "too_small":
      if (issue.origin === "array") return `at least ${issue.minimum} item${issue.minimum === 1 ? "" : "s"}`;
      if (issue.origin === "string") return "non-empty text";
      return `a number of at least ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "array") return `at most ${issue.maximum} items`;
      return `a number of at most ${issue.maximum}`;
    case "invalid_value":
      return issue.values.length === 1 ? describeFound(issue.values[0]) : `one of ${issue.values.map((value) => describeFound(value)).join(", ")}`;
    case "invalid_union":
      return "text, a number or true/false";
    case "unrecognized_keys":
      return "only the keys this section defines (see src/realm/README.md)";
    default:
      return undefined;
  }
}

const typeNames: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
};

function shapeErrors(issues: readonly Issue[], data: unknown): RealmError[] {
  const errors: RealmError[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((segment): segment is PathSegment => typeof segment !== "symbol");
    if (issue.code === "unrecognized_keys") {
      // One error per unknown key, at the key itself, so each typo is pointed at.
      for (const key of issue.keys) errors.push({ path: formatPath([...path, key]), expected: issue.message, found: describeFound(key) });
      continue;
    }
    errors.push({ path: formatPath(path), expected: issue.message, found: describeFound(valueAt(data, path)) });
  }
  return errors;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/** `clusters[0].services[1].server` → `["clusters", 0, "services", 1, "server"]`. */
function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  for (const match of path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) {
    segments.push(match[1] !== undefined ? Number(match[1]) : (match[2] ?? ""));
  }
  return segments;
}

/**
 * Adds line and column: of the node at the path, or of its nearest ancestor (missing keys).
 * Each lookup walks the path, scanning each mapping's keys: bounded by the nesting depth and
 * realmYamlKeysPerMapMax, and done only for the errors listed.
 */
function locate(errors: RealmError[], document: Document, lineCounter: LineCounter): RealmError[] {
  return errors.map((error) => {
    const segments = parsePath(error.path);
    for (let length = segments.length; length >= 0; length--) {
      const node: unknown = length === 0 ? document.contents : document.getIn(segments.slice(0, length), true);
      if (isNode(node) && node.range !== undefined && node.range !== null) {
        const position = lineCounter.linePos(node.range[0]);
        return { ...error, line: position.line, column: position.col };
      }
    }
    return error;
  });
}
