import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matcherLimits } from "./limits.js";
import { compileMatcher, type Matcher } from "./matcher.js";
import { array, bytes, float, int, message, nested, string, timestamp, type Message } from "./message.js";
import { arbitraryMessage } from "./message-arbitraries.js";

const compile = (spec: unknown): Matcher => {
  const result = compileMatcher(spec);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.matcher;
};

const order = message({
  subject: "ORDERS.EU.new",
  id: 42n,
  price: 9.5,
  express: true,
  note: "5",
  raw: new Uint8Array([1, 2]),
  at: timestamp(1_700_000_000_000_000_000n),
  customer: message({ region: "EU", tier: 1n, topic: "CUSTOMERS.gold" }),
  tags: ["fragile", "gift"],
});

describe("matchers against one order", () => {
  // title, spec, matches the order
  const table: [string, unknown, boolean][] = [
    ["empty matcher matches everything", {}, true],
    ["subject literal", { subject: "ORDERS.EU.new" }, true],
    ["subject star", { subject: "ORDERS.*.new" }, true],
    ["subject tail", { subject: "ORDERS.>" }, true],
    ["subject tail needs a token", { subject: "ORDERS.EU.new.>" }, false],
    ["subject other", { subject: "ORDERS.US.*" }, false],
    ["subject on another field", { subject: "CUSTOMERS.*", subjectField: "customer.topic" }, true],
    ["subject test in tests", { tests: [{ field: "customer.topic", subject: "CUSTOMERS.>" }] }, true],
    ["subject pattern on a non-string field", { tests: [{ field: "id", subject: "*" }] }, false],
    ["int equals int", { tests: [{ field: "id", equals: 42n }] }, true],
    ["int does not equal float", { tests: [{ field: "id", equals: 42 }] }, false],
    ["int does not equal string", { tests: [{ field: "id", equals: "42" }] }, false],
    ["string '5' does not equal int 5", { tests: [{ field: "note", equals: int(5) }] }, false],
    ["string equals string", { tests: [{ field: "note", equals: "5" }] }, true],
    ["float equals float", { tests: [{ field: "price", equals: 9.5 }] }, true],
    ["tagged float", { tests: [{ field: "price", equals: float(9.5) }] }, true],
    ["bool", { tests: [{ field: "express", equals: true }] }, true],
    ["bytes", { tests: [{ field: "raw", equals: bytes(new Uint8Array([1, 2])) }] }, true],
    ["timestamp is not an int", { tests: [{ field: "at", equals: int(1_700_000_000_000_000_000n) }] }, false],
    ["timestamp", { tests: [{ field: "at", equals: timestamp(1_700_000_000_000_000_000n) }] }, true],
    ["nested path equals", { tests: [{ field: "customer.region", equals: "EU" }] }, true],
    ["nested message equals whole", { tests: [{ field: "customer", equals: nested(message({ region: "EU", tier: 1n, topic: "CUSTOMERS.gold" })) }] }, true],
    ["array equals whole", { tests: [{ field: "tags", equals: array("string", ["fragile", "gift"]) }] }, true],
    ["array is not its element", { tests: [{ field: "tags", equals: "fragile" }] }, false],
    ["present", { tests: [{ field: "customer.tier", present: true }] }, true],
    ["present missing", { tests: [{ field: "customer.vip", present: true }] }, false],
    ["absent", { tests: [{ field: "cancelled", absent: true }] }, true],
    ["absent but there", { tests: [{ field: "id", absent: true }] }, false],
    ["path through a non-message is absent", { tests: [{ field: "id.low", absent: true }] }, true],
    ["all tests must hold", { subject: "ORDERS.>", tests: [{ field: "express", equals: true }, { field: "customer.region", equals: "US" }] }, false],
    ["conjunction holding", { subject: "ORDERS.>", tests: [{ field: "express", equals: true }, { field: "cancelled", absent: true }] }, true],
  ];
  it.each(table)("%s", (_title, spec, expected) => {
    expect(compile(spec).matches(order)).toBe(expected);
  });
});

describe("invalid matchers are errors naming what is wrong", () => {
  const table: [string, unknown, string, RegExp][] = [
    ["not an object", "ORDERS.>", "", /must be an object/],
    ["unknown key", { subjects: "a" }, "subjects", /unknown matcher key/],
    ["empty token", { subject: "ORDERS..new" }, "subject", /empty token 2/],
    ["'>' not last", { subject: "ORDERS.>.new" }, "subject", /'>' must be the last/],
    ["unknown field test", { tests: [{ field: "id", greaterThan: 5n }] }, "tests[0].greaterThan", /unknown field test/],
    ["no test", { tests: [{ field: "id" }] }, "tests[0]", /exactly one of .* got none/],
    ["two tests", { tests: [{ field: "id", present: true, absent: true }] }, "tests[0]", /got present and absent/],
    ["present not true", { tests: [{ field: "id", present: false }] }, "tests[0].present", /must be true/],
    ["bad field path", { tests: [{ field: "a..b", present: true }] }, "tests[0].field", /invalid field name ""/],
    ["missing field", { tests: [{ present: true }] }, "tests[0].field", /field path string/],
    ["bad equals operand", { tests: [{ field: "id", equals: { type: "int", value: 5 } }] }, "tests[0].equals", /bigint/],
    ["null operand", { tests: [{ field: "id", equals: null }] }, "tests[0].equals", /tagged value/],
    ["bad subjectField", { subject: "a", subjectField: "a b" }, "subjectField", /invalid field name/],
    ["subjectField alone", { subjectField: "topic" }, "subjectField", /without subject/],
    ["tests not an array", { tests: { field: "id" } }, "tests", /an array/],
    ["too many tests", { tests: Array.from({ length: matcherLimits.fieldTestsMax + 1 }, () => ({ field: "a", present: true })) }, "tests", /at most/],
  ];
  it.each(table)("%s", (_title, spec, at, detail) => {
    const result = compileMatcher(spec);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContainEqual({ at, detail: expect.stringMatching(detail) });
  });

  it("never throws on arbitrary specs", () => {
    fc.assert(fc.property(fc.anything({ withBigInt: true, withMap: true }), (spec) => void compileMatcher(spec)));
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.constantFrom("field", "equals", "present", "absent", "subject", "other"), fc.anything({ withBigInt: true }))), (tests) => {
        void compileMatcher({ tests });
      }),
    );
  });
});

describe("matcher properties", () => {
  it("a message matches an equals test built from any of its own fields, and not the same value under another type", () => {
    fc.assert(
      fc.property(arbitraryMessage(), (generated: Message) => {
        for (const [field, value] of generated) {
          expect(compile({ tests: [{ field, equals: value }] }).matches(generated)).toBe(true);
          expect(compile({ tests: [{ field, present: true }] }).matches(generated)).toBe(true);
          expect(compile({ tests: [{ field, absent: true }] }).matches(generated)).toBe(false);
          if (value.type === "string") expect(compile({ tests: [{ field, equals: string(`${value.value}x`) }] }).matches(generated)).toBe(false);
        }
      }),
    );
  });

  it("a subject shorthand and the same field test agree", () => {
    fc.assert(
      fc.property(fc.constantFrom("a.b", "a.*", "a.>", "*.b", ">"), fc.constantFrom("a", "a.b", "a.b.c", "b.b"), (pattern, subject) => {
        const withShorthand = compile({ subject: pattern }).matches(message({ subject }));
        const withTest = compile({ tests: [{ field: "subject", subject: pattern }] }).matches(message({ subject }));
        expect(withShorthand).toBe(withTest);
      }),
    );
  });
});
