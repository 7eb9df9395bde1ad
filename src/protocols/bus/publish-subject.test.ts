import { describe, expect, it } from "vitest";
import { busLimits } from "./limits.js";
import { validatePublishSubject } from "./publish-subject.js";

describe("publish subjects are concrete", () => {
  it.each(["ORDERS", "ORDERS.EU.new", "_INBOX.c1.7", "a-b_c:d"])("%j is valid", (subject) => {
    expect(validatePublishSubject(subject)).toBeNull();
  });

  const invalid: [unknown, RegExp][] = [
    [42, /must be a string/],
    ["", /^empty subject$/],
    ["ORDERS..new", /empty token 2 of "ORDERS\.\.new"/],
    ["ORDERS.", /empty token 2/],
    ["ORDERS.*.new", /wildcard in token 2 of "ORDERS\.\*\.new": publish to a concrete subject/],
    ["ORDERS.>", /wildcard in token 2/],
    ["ORDERS.EU*", /wildcard in token 2/],
    ["ORDERS.E U", /whitespace in token 2/],
    ["x".repeat(busLimits.subjectLengthMax + 1), /longer than 1024 characters/],
    [Array(busLimits.matcher.subjectTokensMax + 1).fill("a").join("."), /more than 64 tokens/],
  ];
  it.each(invalid)("%j: %s", (subject, detail) => {
    expect(validatePublishSubject(subject)).toMatch(detail);
  });
});
