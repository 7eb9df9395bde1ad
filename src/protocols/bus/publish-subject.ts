import { busLimits, type BusLimits } from "./limits.js";

/**
 * A publish subject is concrete: dot-separated tokens, none empty, none holding whitespace, `*`
 * or `>` (wildcards belong to subscription patterns; a token such as `OR*` is refused too, since
 * patterns refuse it and no literal pattern could ever match it). Returns null when valid, or a
 * detail naming the offending token in the words `compileSubjectPattern` uses.
 */
export function validatePublishSubject(subject: unknown, limits: BusLimits = busLimits): string | null {
  if (typeof subject !== "string") return "a subject must be a string";
  if (subject.length === 0) return "empty subject";
  if (subject.length > limits.subjectLengthMax) return `subject longer than ${limits.subjectLengthMax} characters`;
  const tokens = subject.split(".");
  if (tokens.length > limits.matcher.subjectTokensMax) return `more than ${limits.matcher.subjectTokensMax} tokens`;
  for (const [index, token] of tokens.entries()) {
    const where = `token ${index + 1} of ${JSON.stringify(subject)}`;
    if (token.length === 0) return `empty ${where}`;
    if (/\s/.test(token)) return `whitespace in ${where}`;
    if (/[*>]/.test(token)) return `wildcard in ${where}: publish to a concrete subject ('*' and '>' are for subscriptions)`;
  }
  return null;
}
