import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSubjectPattern, subjectMatches, type SubjectPattern } from "../persistence/subject.js";
import { InterestTable, type Interest } from "./interest-table.js";
import { busLimits, type BusLimits } from "./limits.js";

const ids = (interests: readonly Interest<unknown>[]): string[] => interests.map((interest) => interest.subscriptionId).sort();

function added<S>(table: InterestTable<S>, pattern: string, subscriber: S, subscriptionId: string, queueGroup: string | null = null): void {
  const result = table.add(pattern, subscriber, subscriptionId, queueGroup);
  if (!result.ok) throw new Error(result.detail);
}

/** The trie's root, to check that removals prune it back to nothing. */
const rootOf = (table: InterestTable<unknown>): { literal: Map<string, unknown>; star: unknown; end: Set<unknown>; rest: Set<unknown> } =>
  (table as unknown as { root: { literal: Map<string, unknown>; star: unknown; end: Set<unknown>; rest: Set<unknown> } }).root;

describe("interest table: matching", () => {
  // pattern, subject, matches
  const table: [string, string, boolean][] = [
    ["ORDERS.EU.new", "ORDERS.EU.new", true],
    ["ORDERS.EU.new", "ORDERS.EU", false],
    ["ORDERS.*.new", "ORDERS.EU.new", true],
    ["ORDERS.*", "ORDERS", false],
    ["ORDERS.*", "ORDERS.EU.new", false],
    ["ORDERS.>", "ORDERS.EU.new", true],
    ["ORDERS.>", "ORDERS", false],
    ["ORDERS.*.>", "ORDERS.EU", false],
    ["ORDERS.*.>", "ORDERS.EU.new", true],
    [">", "a", true],
    ["*", "a.b", false],
  ];
  it.each(table)("%s against %s: %s", (pattern, subject, expected) => {
    const interests = new InterestTable<string>();
    added(interests, pattern, "connection-1", "s1");
    expect(ids(interests.match(subject))).toEqual(expected ? ["s1"] : []);
  });

  it("delivers per subscription: two overlapping subscriptions of one connection are two entries, each once", () => {
    const interests = new InterestTable<string>();
    added(interests, "ORDERS.>", "connection-1", "s1");
    added(interests, "ORDERS.*.new", "connection-1", "s2");
    added(interests, "ORDERS.EU.new", "connection-2", "s3");
    const matched = interests.match("ORDERS.EU.new");
    expect(ids(matched)).toEqual(["s1", "s2", "s3"]);
    expect(matched.filter((interest) => interest.subscriber === "connection-1")).toHaveLength(2);
  });

  it("hands out the same frozen interest object for the life of a subscription", () => {
    const interests = new InterestTable<string>();
    const result = interests.add("a.*", "connection-1", "s1");
    expect(result.ok).toBe(true);
    const [first] = interests.match("a.b");
    expect(Object.isFrozen(first)).toBe(true);
    expect(interests.match("a.c")[0]).toBe(first);
    expect(first).toEqual({ subscriber: "connection-1", subscriptionId: "s1", pattern: "a.*", queueGroup: null });
  });
});

describe("interest table: refusals are values", () => {
  const invalid: [string, RegExp][] = [
    ["", /empty subject pattern/],
    ["ORDERS..new", /empty token 2 of "ORDERS\.\.new"/],
    ["ORDERS.>.new", /'>' must be the last token, found at token 2/],
    ["ORDERS.EU*", /wildcard inside token 2 of "ORDERS\.EU\*"/],
    ["ORDERS. EU", /whitespace in token 2/],
  ];
  it.each(invalid)("pattern %j: %s", (pattern, detail) => {
    const interests = new InterestTable<string>();
    const result = interests.add(pattern, "connection-1", "s1");
    expect(result).toMatchObject({ ok: false, reason: "invalid-pattern" });
    if (!result.ok) expect(result.detail).toMatch(detail);
    expect(interests.size).toBe(0);
  });

  it("refuses a subscription id already in use, a bad queue group, and past each bound", () => {
    const limits: BusLimits = { ...busLimits, subscriptionsPerSubscriberMax: 2, subscriptionsMax: 3 };
    const interests = new InterestTable<string>(limits);
    added(interests, "a", "connection-1", "s1");
    expect(interests.add("b", "connection-2", "s1")).toMatchObject({ ok: false, reason: "duplicate-subscription" });
    expect(interests.add("b", "connection-1", "s2", "")).toMatchObject({ ok: false, reason: "invalid-queue-group" });
    expect(interests.add("b", "connection-1", "s2", "work ers")).toMatchObject({ ok: false, reason: "invalid-queue-group" });
    added(interests, "b", "connection-1", "s2");
    expect(interests.add("c", "connection-1", "s3")).toMatchObject({ ok: false, reason: "subscriber-limit" });
    added(interests, "c", "connection-2", "s3");
    expect(interests.add("d", "connection-3", "s4")).toMatchObject({ ok: false, reason: "table-full" });
    expect(interests.size).toBe(3);
  });
});

describe("interest table: removal", () => {
  it("remove says whether it removed; removeAll removes one connection's subscriptions only", () => {
    const interests = new InterestTable<string>();
    added(interests, "a.>", "connection-1", "s1");
    added(interests, "a.*", "connection-1", "s2");
    added(interests, "a.b", "connection-2", "s3");
    expect(interests.remove("s1")).toBe(true);
    expect(interests.remove("s1")).toBe(false);
    expect(ids(interests.match("a.b"))).toEqual(["s2", "s3"]);
    expect(interests.removeAll("connection-1")).toBe(1);
    expect(interests.removeAll("connection-1")).toBe(0);
    expect(ids(interests.match("a.b"))).toEqual(["s3"]);
    expect(interests.size).toBe(1);
  });

  it("prunes the trie back to an empty root once every subscription is gone", () => {
    const interests = new InterestTable<string>();
    const patterns = ["a.b.c", "a.*.c", "a.>", "*.>", ">", "a.b", "*"];
    patterns.forEach((pattern, index) => added(interests, pattern, `connection-${index % 2}`, `s${index}`));
    interests.remove("s0");
    interests.remove("s3");
    interests.removeAll("connection-0");
    interests.removeAll("connection-1");
    const root = rootOf(interests);
    expect([root.literal.size, root.star, root.end.size, root.rest.size]).toEqual([0, null, 0, 0]);
  });
});

describe("interest table: the match cache", () => {
  it("sees a subscription added after a match was cached, and forgets a removed one", () => {
    const interests = new InterestTable<string>();
    added(interests, "ORDERS.EU.new", "connection-1", "s1");
    expect(ids(interests.match("ORDERS.EU.new"))).toEqual(["s1"]);
    expect(interests.cachedMatches).toBe(1);
    added(interests, "ORDERS.*.new", "connection-2", "s2");
    expect(ids(interests.match("ORDERS.EU.new"))).toEqual(["s1", "s2"]);
    added(interests, "ORDERS.EU.new", "connection-3", "s3");
    expect(ids(interests.match("ORDERS.EU.new"))).toEqual(["s1", "s2", "s3"]);
    interests.remove("s2");
    expect(ids(interests.match("ORDERS.EU.new"))).toEqual(["s1", "s3"]);
    interests.removeAll("connection-1");
    expect(ids(interests.match("ORDERS.EU.new"))).toEqual(["s3"]);
  });

  it("drops only the cached subjects the changed pattern matches", () => {
    const interests = new InterestTable<string>();
    interests.match("a.x");
    interests.match("b.x");
    const cachedB = interests.match("b.x");
    added(interests, "a.*", "connection-1", "s1");
    expect(interests.cachedMatches).toBe(1);
    expect(interests.match("b.x")).toBe(cachedB);
  });

  it("holds at most matchCacheEntriesMax subjects, evicting the least recently used", () => {
    const interests = new InterestTable<string>({ ...busLimits, matchCacheEntriesMax: 2 });
    added(interests, ">", "connection-1", "s1");
    const first = interests.match("a");
    interests.match("b");
    expect(interests.match("a")).toBe(first); // "a" is now the most recently used
    interests.match("c"); // evicts "b"
    expect(interests.cachedMatches).toBe(2);
    expect(interests.match("a")).toBe(first);
  });
});

describe("interest table: queue groups", () => {
  it("gives each message to every plain subscription and to one member of each group, round robin by the caller's counter", () => {
    const interests = new InterestTable<string>();
    added(interests, "jobs.>", "monitor", "m");
    added(interests, "jobs.*", "worker-1", "w1", "workers");
    added(interests, "jobs.*", "worker-2", "w2", "workers");
    added(interests, "jobs.new", "worker-3", "w3", "workers");
    added(interests, "jobs.*", "auditor-1", "a1", "auditors");
    const picked = new Map<string, number>();
    for (let counter = 0; counter < 300; counter += 1) {
      const targets = interests.deliveryTargets("jobs.new", counter);
      expect(targets.filter((target) => target.queueGroup === null).map((target) => target.subscriptionId)).toEqual(["m"]);
      expect(targets.filter((target) => target.queueGroup === "workers")).toHaveLength(1);
      expect(targets.filter((target) => target.queueGroup === "auditors").map((target) => target.subscriptionId)).toEqual(["a1"]);
      for (const target of targets) picked.set(target.subscriptionId, (picked.get(target.subscriptionId) ?? 0) + 1);
    }
    expect(Object.fromEntries(picked)).toEqual({ m: 300, w1: 100, w2: 100, w3: 100, a1: 300 });
    expect(ids(interests.match("jobs.new"))).toEqual(["a1", "m", "w1", "w2", "w3"]);
  });
});

// --- property: the trie and its cache agree with a naive scan ------------------------------

type Operation =
  | { readonly kind: "add"; readonly pattern: string; readonly subscriber: number; readonly queueGroup: string | null }
  | { readonly kind: "remove"; readonly pick: number }
  | { readonly kind: "removeAll"; readonly subscriber: number }
  | { readonly kind: "match"; readonly subject: string };

const token = fc.constantFrom("a", "b", "c");
const subject = fc.array(token, { minLength: 1, maxLength: 4 }).map((tokens) => tokens.join("."));
const pattern = fc
  .tuple(fc.array(fc.constantFrom("a", "b", "c", "*"), { minLength: 0, maxLength: 4 }), fc.boolean())
  .filter(([tokens, rest]) => tokens.length > 0 || rest)
  .map(([tokens, rest]) => [...tokens, ...(rest ? [">"] : [])].join("."));
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("add" as const), pattern, subscriber: fc.nat(3), queueGroup: fc.constantFrom(null, null, "q1", "q2") }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("removeAll" as const), subscriber: fc.nat(3) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("match" as const), subject }) },
);

function compiled(source: string): SubjectPattern {
  const result = compileSubjectPattern(source);
  if (!result.ok) throw new Error(result.detail);
  return result.pattern;
}

describe("interest table: property", () => {
  it.each([0, 2, 64])("match equals a naive scan over every subscription, through adds and removals (cache of %i)", (matchCacheEntriesMax) => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 120 }), fc.array(subject, { minLength: 1, maxLength: 8 }), (operations, probes) => {
        const interests = new InterestTable<number>({ ...busLimits, matchCacheEntriesMax });
        const model = new Map<string, { subscriber: number; pattern: SubjectPattern }>();
        let nextId = 0;
        const check = (probe: string): void => {
          const matched = interests.match(probe);
          const expected = [...model].filter(([, subscription]) => subjectMatches(subscription.pattern, probe)).map(([id]) => id);
          expect(ids(matched)).toEqual(expected.sort());
          expect(new Set(ids(matched)).size).toBe(matched.length); // each subscription at most once
          for (const interest of matched) expect(interest.subscriber).toBe(model.get(interest.subscriptionId)?.subscriber);
        };
        for (const step of operations) {
          if (step.kind === "add") {
            const id = `s${nextId++}`;
            expect(interests.add(step.pattern, step.subscriber, id, step.queueGroup).ok).toBe(true);
            model.set(id, { subscriber: step.subscriber, pattern: compiled(step.pattern) });
          } else if (step.kind === "remove") {
            const live = [...model.keys()];
            const id = live.length === 0 ? "absent" : (live[step.pick % live.length] as string);
            expect(interests.remove(id)).toBe(model.delete(id));
          } else if (step.kind === "removeAll") {
            const owned = [...model].filter(([, subscription]) => subscription.subscriber === step.subscriber).map(([id]) => id);
            expect(interests.removeAll(step.subscriber)).toBe(owned.length);
            for (const id of owned) model.delete(id);
          } else check(step.subject);
          expect(interests.size).toBe(model.size);
          expect(interests.cachedMatches).toBeLessThanOrEqual(matchCacheEntriesMax);
        }
        for (const probe of probes) check(probe);
      }),
      { numRuns: 300 },
    );
  });
});
