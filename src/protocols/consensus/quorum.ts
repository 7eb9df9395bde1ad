import type { Configuration, MemberId } from "./types.js";

/** Strict majority of `count` voters. */
export function majorityOf(count: number): number {
  return Math.floor(count / 2) + 1;
}

export function voterIds(config: Configuration): MemberId[] {
  return config.voters.map((member) => member.id);
}

export function isVoter(config: Configuration, id: MemberId): boolean {
  return config.voters.some((member) => member.id === id);
}

export function isMember(config: Configuration, id: MemberId): boolean {
  return isVoter(config, id) || config.learners.some((member) => member.id === id);
}

/**
 * The highest index a majority of ALL voters holds, counting only voters whose match counts
 * (FTL's non-empty rule: an empty member's acknowledgments do not make a quorum).
 * `matchOf` returns null for a voter that does not count.
 */
export function quorumMatchIndex(config: Configuration, matchOf: (id: MemberId) => number | null): number {
  const matches: number[] = [];
  for (const voter of config.voters) {
    const match = matchOf(voter.id);
    if (match !== null) matches.push(match);
  }
  const needed = majorityOf(config.voters.length);
  if (matches.length < needed) return 0;
  matches.sort((a, b) => b - a);
  return matches[needed - 1] ?? 0;
}

/** Tally of one election round. */
export type VoteOutcome = "won" | "lost" | "pending";

export interface Ballot {
  readonly granted: boolean;
  readonly empty: boolean;
}

/**
 * A candidate wins with grants from a majority of all voters that are non-empty. When every
 * voter (candidate included) answers as empty, the cluster has never formed (or lost every
 * disk): it may form, but only with every defined voter taking part (FTL's first-start rule).
 */
export function tallyVotes(config: Configuration, ballots: ReadonlyMap<MemberId, Ballot>, candidateEmpty: boolean): VoteOutcome {
  const voters = config.voters.map((member) => member.id);
  const needed = majorityOf(voters.length);
  if (candidateEmpty) {
    const allEmptyGrants = voters.every((id) => {
      const ballot = ballots.get(id);
      return ballot !== undefined && ballot.granted && ballot.empty;
    });
    if (allEmptyGrants) return "won";
    const refused = voters.some((id) => {
      const ballot = ballots.get(id);
      return ballot !== undefined && (!ballot.granted || !ballot.empty);
    });
    return refused ? "lost" : "pending";
  }
  let granted = 0;
  let unanswered = 0;
  for (const id of voters) {
    const ballot = ballots.get(id);
    if (ballot === undefined) unanswered += 1;
    else if (ballot.granted && !ballot.empty) granted += 1;
  }
  if (granted >= needed) return "won";
  return granted + unanswered >= needed ? "pending" : "lost";
}
