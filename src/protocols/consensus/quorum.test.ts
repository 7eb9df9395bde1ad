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

  const ballotArbitrary = fc.option(fc.record({ granted: fc.boolean(), empty: fc.boolean(), blind: fc.boolean() }), { nil: undefined });

  /** Every voter grants, and if some grants are blind, those that judged are a majority. */
  function naiveUnanimous(answers: readonly (Ballot | undefined)[]): boolean {
    const majority = Math.floor(answers.length / 2) + 1;
    const judged = answers.filter((answer) => answer?.granted && !answer.blind).length;
    return answers.every((answer) => answer?.granted) && (judged === answers.length || judged >= majority);
  }

  it("a non-empty candidate wins exactly when a majority of all voters grant as non-empty, or all grant (judging ones a majority)", () => {
    fc.assert(
      fc.property(fc.array(ballotArbitrary, { minLength: 1, maxLength: 9 }), (answers) => {
        const config = configOf(answers.length);
        const ballots = new Map<string, Ballot>();
        answers.forEach((answer, at) => answer && ballots.set(`m${at}`, answer));
        const majority = Math.floor(answers.length / 2) + 1;
        const counted = answers.filter((answer) => answer?.granted && !answer.empty && !answer.blind).length;
        const unanswered = answers.filter((answer) => answer === undefined).length;
        const refused = answers.some((answer) => answer !== undefined && !answer.granted);
        const expected =
          counted >= majority || naiveUnanimous(answers) ? "won" : counted + unanswered >= majority || (!refused && unanswered > 0) ? "pending" : "lost";
        expect(tallyVotes(config, ballots, false)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it("an empty candidate wins only unanimously: every voter answers and grants, empty or not", () => {
    fc.assert(
      fc.property(fc.array(ballotArbitrary, { minLength: 1, maxLength: 9 }), (answers) => {
        const config = configOf(answers.length);
        const ballots = new Map<string, Ballot>();
        answers.forEach((answer, at) => answer && ballots.set(`m${at}`, answer));
        const refused = answers.some((answer) => answer !== undefined && !answer.granted);
        const unanswered = answers.some((answer) => answer === undefined);
        expect(tallyVotes(config, ballots, true)).toBe(naiveUnanimous(answers) ? "won" : refused || !unanswered ? "lost" : "pending");
      }),
      { numRuns: 5000 },
    );
    const config = configOf(3);
    const all = (ballot: Ballot) => new Map(["m0", "m1", "m2"].map((id) => [id, ballot] as const));
    expect(tallyVotes(config, all({ granted: true, empty: true, blind: false }), true)).toBe("won");
    const oneMissing = all({ granted: true, empty: true, blind: false });
    oneMissing.delete("m2");
    expect(tallyVotes(config, oneMissing, true)).toBe("pending");
    // Two of three lost their data and cannot judge: no unanimity (force quorum's case).
    const twoBlind = all({ granted: true, empty: true, blind: true });
    twoBlind.set("m0", { granted: true, empty: false, blind: false });
    expect(tallyVotes(config, twoBlind, false)).toBe("lost");
    twoBlind.set("m1", { granted: true, empty: true, blind: false });
    expect(tallyVotes(config, twoBlind, false)).toBe("won");
  });
});
