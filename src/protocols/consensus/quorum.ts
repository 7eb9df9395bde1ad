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
  /** A grant from an empty member that could not judge the candidate's log (messages.ts). */
  readonly blind: boolean;
}

/**
 * A candidate wins with grants from a majority of all voters that are non-empty, or with
 * grants from every voter (unanimous); an empty candidate only unanimously. Unanimity is FTL's
 * first-start rule generalised: when every voter (candidate included) is empty the cluster has
 * never formed and may form only with every defined voter taking part; a first formation
 * interrupted by a crash, which leaves some members empty and some not, completes the same
 * way; and so does a cluster whose members came back with cut WAL tails (a power loss),
 * empty but with their logs. It is safe because every voter that can judge must grant, so the
 * winner holds every entry any of them holds, and whatever a majority acknowledged is held by
 * one of them whose disk kept it while a majority keeps its disk. Blind grants (members that
 * lost their data and cannot judge) complete a unanimous election only when the grants that
 * judged are a majority: a majority that lost its data needs force quorum. Voters decide how
 * they grant (election.ts `wouldGrant`).
 */
export function tallyVotes(config: Configuration, ballots: ReadonlyMap<MemberId, Ballot>, candidateEmpty: boolean): VoteOutcome {
  const voters = config.voters.map((member) => member.id);
  const needed = majorityOf(voters.length);
  let granted = 0;
  let grantedEmpty = 0;
  let grantedBlind = 0;
  let unanswered = 0;
  let refused = 0;
  for (const id of voters) {
    const ballot = ballots.get(id);
    if (ballot === undefined) unanswered += 1;
    else if (!ballot.granted) refused += 1;
    else if (ballot.blind) grantedBlind += 1;
    else if (ballot.empty) grantedEmpty += 1;
    else granted += 1;
  }
  const unanimous = granted + grantedEmpty + grantedBlind === voters.length && (grantedBlind === 0 || granted + grantedEmpty >= needed);
  // Non-empty voters grant an empty candidate only when it has history (election.ts), and
  // then only unanimity elects it: its own log may lack what it once acknowledged.
  if (unanimous || (!candidateEmpty && granted >= needed)) return "won";
  if (refused > 0 && (candidateEmpty || granted + unanswered < needed)) return "lost";
  if (unanswered > 0) return "pending";
  // Everyone answered and granted, but the blind grants were too many: only a non-empty
  // majority could elect, and it is not there.
  return "lost";
}
