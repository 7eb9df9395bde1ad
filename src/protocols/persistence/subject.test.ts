import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matcherLimits } from "./limits.js";
import { compileSubjectPattern, subjectMatches } from "./subject.js";

const matches = (pattern: string, subject: string): boolean => {
  const compiled = compileSubjectPattern(pattern);
  if (!compiled.ok) throw new Error(compiled.detail);
  return subjectMatches(compiled.pattern, subject);
};

/** The obvious, slow definition: a pattern is a regular expression over the whole subject. */
function naiveMatches(pattern: string, subject: string): boolean {
  const source = pattern
    .split(".")
    .map((token) => (token === "*" ? "[^.]*" : token === ">" ? "[\\s\\S]*" : token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("\\.");
  return new RegExp(`^${source}$`).test(subject);
}

describe("subject patterns", () => {
  // pattern, subject, matches
  const table: [string, string, boolean][] = [
    ["ORDERS.EU.new", "ORDERS.EU.new", true],
    ["ORDERS.EU.new", "ORDERS.EU.old", false],
    ["ORDERS.EU", "ORDERS.EU.new", false],
    ["ORDERS.*.new", "ORDERS.EU.new", true],
    ["ORDERS.*.new", "ORDERS.EU.US.new", false],
    ["ORDERS.*", "ORDERS", false],
    ["ORDERS.*", "ORDERS.EU", true],
    ["ORDERS.*", "ORDERS.EU.new", false],
    ["ORDERS.>", "ORDERS.EU.new", true],
    ["ORDERS.>", "ORDERS.EU", true],
    ["ORDERS.>", "ORDERS", false],
    ["ORDERS.*.>", "ORDERS.EU", false],
    ["ORDERS.*.>", "ORDERS.EU.new", true],
    ["*.*", "a.b", true],
    ["*", "a.b", false],
    [">", "a.b.c", true],
    [">", "a", true],
    ["orders", "ORDERS", false],
  ];
  it.each(table)("%s against %s: %s", (pattern, subject, expected) => {
    expect(matches(pattern, subject)).toBe(expected);
  });

  const invalid: [unknown, RegExp][] = [
    ["", /empty subject pattern/],
    ["ORDERS..new", /empty token 2/],
    [".ORDERS", /empty token 1/],
    ["ORDERS.", /empty token 2/],
    ["ORDERS.>.new", /'>' must be the last token/],
    ["ORDERS.E*", /wildcard inside token 2/],
    ["ORDERS.>x", /wildcard inside token 2/],
    ["ORDERS.E U", /whitespace/],
    ["x".repeat(matcherLimits.subjectPatternLengthMax + 1), /longer than/],
    [Array.from({ length: matcherLimits.subjectTokensMax + 1 }, () => "a").join("."), /more than/],
    [5, /must be a string/],
  ];
  it.each(invalid)("rejects %j", (pattern, detail) => {
    const compiled = compileSubjectPattern(pattern);
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) expect(compiled.detail).toMatch(detail);
  });

  it("agrees with the naive definition on thousands of random cases", () => {
    const subjectToken = fc.constantFrom("a", "b", "c", "*", ">", "");
    const patternToken = fc.constantFrom("a", "b", "c", "*");
    const subject = fc.array(subjectToken, { minLength: 1, maxLength: 5 }).map((tokens) => tokens.join("."));
    const pattern = fc
      .tuple(fc.array(patternToken, { minLength: 0, maxLength: 4 }), fc.boolean())
      .filter(([tokens, tail]) => tokens.length > 0 || tail)
      .map(([tokens, tail]) => [...tokens, ...(tail ? [">"] : [])].join("."));
    fc.assert(
      fc.property(pattern, subject, (patternText, subjectText) => {
        expect(matches(patternText, subjectText)).toBe(naiveMatches(patternText, subjectText));
      }),
      { numRuns: 20_000 },
    );
  });
});
