/**
 * One problem in a realm definition. Every check reports these, so a reader sees every problem
 * of a file at once, each as "<path>: expected <expected>, found <found>".
 */
export interface RealmError {
  /** Where, in the notation of the file: `clusters[0].services[1].server`; "" for the whole file. */
  path: string;
  /** What would have been accepted, as a phrase: `a server defined in servers`. */
  expected: string;
  /** What was there, quoted when it is text: `"s9"`, `nothing`, `a list`. */
  found: string;
  /** 1-based position in the source text, when known. */
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

/** How a check reports one error; checks call it for every violation, never stopping early. */
export type ReportRealmError = (path: readonly PathSegment[], expected: string, found: string) => void;

/** `["clusters", 0, "services", 1, "server"]` → `clusters[0].services[1].server`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let text = "";
  for (const segment of segments) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? segment : `.${segment}`;
  }
  return text;
}

/** Longest text quoted in a message; longer values are cut so one error stays one line. */
const foundTextCharactersMax = 60;

/** Describes a value found in the file, short enough for one line of an error. */
export function describeFound(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    const cut = value.length > foundTextCharactersMax ? `${value.slice(0, foundTextCharactersMax)}…` : value;
    return JSON.stringify(cut);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

/** `demo.yaml:12:9: clusters[0].services[1].server: expected …, found …` (source optional). */
export function formatRealmError(error: RealmError, source?: string): string {
  const where = [source, error.line, error.column].filter((part) => part !== undefined).join(":");
  const path = error.path === "" ? "" : `${error.path}: `;
  return `${where === "" ? "" : `${where}: `}${path}expected ${error.expected}, found ${error.found}`;
}

/** Each error as formatRealmError writes it, then a line saying how many more were not listed. */
export function formatRealmErrors(errors: readonly RealmError[], errorsNotListed: number, source?: string): string[] {
  const lines = errors.map((error) => formatRealmError(error, source));
  if (errorsNotListed > 0) lines.push(notListedLine(errorsNotListed));
  return lines;
}

/** `… and 19900 more errors not listed`: the end of a list cut at realmErrorsListedMax. */
export function notListedLine(errorsNotListed: number): string {
  return `… and ${errorsNotListed} more ${errorsNotListed === 1 ? "error" : "errors"} not listed`;
}
