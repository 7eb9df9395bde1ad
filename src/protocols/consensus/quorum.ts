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
 * A candidate wins with grants from a majority of all voters that are non-empty, or with
 * grants from every voter (unanimous); an empty candidate only unanimously. Unanimity is FTL's
 * first-start rule generalised: when every voter (candidate included) is empty the cluster has
 * never formed and may form only with every defined voter taking part; a first formation
 * interrupted by a crash, which leaves some members empty and some not, completes the same
 * way; and so does a cluster whose members all came back with cut WAL tails (a power loss),
 * empty but with their logs. It is safe because every voter must grant, so the winner holds
 * every entry any voter holds, and whatever a majority acknowledged is held by at least one
 * voter whose disk kept it; voters decide when an empty member may grant (election.ts
 * `wouldGrant`).
 */
export function tallyVotes(config: Configuration, ballots: ReadonlyMap<MemberId, Ballot>, candidateEmpty: boolean): VoteOutcome {
  const voters = config.voters.map((member) => member.id);
  const needed = majorityOf(voters.length);
  if (candidateEmpty) {
    // Non-empty voters grant an empty candidate only when it has history (election.ts), and
    // then only unanimity elects it: its own log may lack what it once acknowledged.
    const allGrants = voters.every((id) => ballots.get(id)?.granted === true);
    if (allGrants) return "won";
    const refused = voters.some((id) => ballots.get(id)?.granted === false);
    return refused ? "lost" : "pending";
  }
  let granted = 0;
  let grantedEmpty = 0;
  let unanswered = 0;
  let refused = 0;
  for (const id of voters) {
    const ballot = ballots.get(id);
    if (ballot === undefined) unanswered += 1;
    else if (!ballot.granted) refused += 1;
    else if (ballot.empty) grantedEmpty += 1;
    else granted += 1;
  }
  if (granted >= needed || granted + grantedEmpty === voters.length) return "won";
  if (granted + unanswered >= needed) return "pending";
  // A majority is out of reach; unanimity may still come while nobody refused.
  return refused === 0 ? "pending" : "lost";
}
