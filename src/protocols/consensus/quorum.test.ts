import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quorumMatchIndex, tallyVotes, type Ballot } from "./quorum.js";
import type { Configuration } from "./types.js";

const configOf = (count: number): Configuration => ({
  voters: Array.from({ length: count }, (_, at) => ({ id: `m${at}`, weight: 1 })),
  learners: [],
});

/** The obvious, slow definition: the largest index held by a majority of all voters that count. */
function naiveQuorumMatch(matches: (number | null)[]): number {
  const majority = Math.floor(matches.length / 2) + 1;
  let best = 0;
  for (const candidate of matches) {
    if (candidate === null) continue;
    const holding = matches.filter((match) => match !== null && match >= candidate).length;
    if (holding >= majority && candidate > best) best = candidate;
  }
  return best;
}

describe("quorum arithmetic against a naive model", () => {
  it("quorumMatchIndex equals the naive majority index, empty members not counted", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.nat(50), { nil: null }), { minLength: 1, maxLength: 9 }), (matches) => {
        const config = configOf(matches.length);
        const actual = quorumMatchIndex(config, (id) => matches[Number(id.slice(1))] ?? null);
        expect(actual).toBe(naiveQuorumMatch(matches));
      }),
      { numRuns: 5000 },
    );
  });

  it("a non-empty candidate wins exactly when a majority of all voters grant as non-empty, or all grant", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.record({ granted: fc.boolean(), empty: fc.boolean() }), { nil: undefined }), { minLength: 1, maxLength: 9 }),
        (answers) => {
          const config = configOf(answers.length);
          const ballots = new Map<string, Ballot>();
          answers.forEach((answer, at) => answer && ballots.set(`m${at}`, answer));
          const majority = Math.floor(answers.length / 2) + 1;
          const counted = answers.filter((answer) => answer?.granted && !answer.empty).length;
          const possible = counted + answers.filter((answer) => answer === undefined).length;
          const unanimous = answers.every((answer) => answer?.granted);
          const refused = answers.some((answer) => answer !== undefined && !answer.granted);
          const expected = counted >= majority || unanimous ? "won" : possible >= majority || !refused ? "pending" : "lost";
          expect(tallyVotes(config, ballots, false)).toBe(expected);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("an empty candidate wins only unanimously: every voter answers and grants, empty or not", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.record({ granted: fc.boolean(), empty: fc.boolean() }), { nil: undefined }), { minLength: 1, maxLength: 9 }),
        (answers) => {
          const config = configOf(answers.length);
          const ballots = new Map<string, Ballot>();
          answers.forEach((answer, at) => answer && ballots.set(`m${at}`, answer));
          const unanimous = answers.every((answer) => answer?.granted);
          const refused = answers.some((answer) => answer !== undefined && !answer.granted);
          expect(tallyVotes(config, ballots, true)).toBe(unanimous ? "won" : refused ? "lost" : "pending");
        },
      ),
      { numRuns: 5000 },
    );
    const config = configOf(3);
    const all = (ballot: Ballot) => new Map(["m0", "m1", "m2"].map((id) => [id, ballot] as const));
    expect(tallyVotes(config, all({ granted: true, empty: true }), true)).toBe("won");
    const oneMissing = all({ granted: true, empty: true });
    oneMissing.delete("m2");
    expect(tallyVotes(config, oneMissing, true)).toBe("pending");
  });
});
