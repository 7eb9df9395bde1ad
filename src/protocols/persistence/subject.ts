/**
 * Subject patterns, NATS semantics: dot-separated tokens; `*` matches exactly one token; `>`
 * (last token only) matches one or more trailing tokens, so `ORDERS.>` matches `ORDERS.EU.new`
 * but not `ORDERS`. Wildcards are whole tokens: `OR*` is an error, not a prefix match.
 */
import { matcherLimits, type MatcherLimits } from "./limits.js";

export type SubjectPattern = { readonly source: string; readonly tokens: readonly string[] };

export type SubjectPatternResult = { readonly ok: true; readonly pattern: SubjectPattern } | { readonly ok: false; readonly detail: string };

export function compileSubjectPattern(source: unknown, limits: MatcherLimits = matcherLimits): SubjectPatternResult {
  if (typeof source !== "string") return { ok: false, detail: "a subject pattern must be a string" };
  if (source.length === 0) return { ok: false, detail: "empty subject pattern" };
  if (source.length > limits.subjectPatternLengthMax) {
    return { ok: false, detail: `subject pattern longer than ${limits.subjectPatternLengthMax} characters` };
  }
  const tokens = source.split(".");
  if (tokens.length > limits.subjectTokensMax) return { ok: false, detail: `more than ${limits.subjectTokensMax} tokens` };
  for (const [index, token] of tokens.entries()) {
    const where = `token ${index + 1} of ${JSON.stringify(source)}`;
    if (token.length === 0) return { ok: false, detail: `empty ${where}` };
    if (/\s/.test(token)) return { ok: false, detail: `whitespace in ${where}` };
    if (token !== "*" && token !== ">" && /[*>]/.test(token)) return { ok: false, detail: `wildcard inside ${where}: '*' and '>' must be whole tokens` };
    if (token === ">" && index !== tokens.length - 1) return { ok: false, detail: `'>' must be the last token, found at ${where}` };
  }
  return { ok: true, pattern: { source, tokens } };
}

/** Whether `subject` matches; subjects are not validated here, only compared token by token. */
export function subjectMatches(pattern: SubjectPattern, subject: string): boolean {
  const subjectTokens = subject.split(".");
  for (const [index, token] of pattern.tokens.entries()) {
    if (token === ">") return subjectTokens.length > index;
    const subjectToken = subjectTokens[index];
    if (subjectToken === undefined) return false;
    if (token !== "*" && token !== subjectToken) return false;
  }
  return subjectTokens.length === pattern.tokens.length;
}
