import { limits } from "../../kernel/limits.js";
import type { Prng } from "../../kernel/prng.js";
import type { MemberDefinition, MemberId } from "./types.js";

/** Every knob of one member. Defaults come from kernel/limits.ts. */
export interface ConsensusOptions {
  readonly id: MemberId;
  /**
   * The members defined for this group (realm definition). The first configuration when the
   * log has none; members later returning after a force quorum rejoin from this list.
   */
  readonly definedMembers: readonly MemberDefinition[];
  readonly random: Prng;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMinMs: number;
  readonly electionTimeoutMaxMs: number;
  readonly leaderLeaseMs: number;
  readonly appendEntriesMax: number;
  readonly appendBytesMax: number;
  readonly snapshotChunkBytes: number;
  readonly inflightAppendsMax: number;
  readonly uncommittedBytesMax: number;
  readonly pendingProposalsMax: number;
  readonly proposalBytesMax: number;
  readonly learnerCatchUpEntriesMax: number;
  /**
   * Memory ack points (a store acknowledges before a quorum fsynced): the leader applies its
   * own entries as it appends them, followers report "received" before their fsync, and the
   * leader notifies `appended` and `quorum-received` early (effects.ts). Off by default: the
   * leader then applies only what committed, like every member.
   */
  readonly applyBeforeCommit: boolean;
}

export function consensusOptions(
  required: Pick<ConsensusOptions, "id" | "definedMembers" | "random">,
  overrides: Partial<ConsensusOptions> = {},
): ConsensusOptions {
  return {
    heartbeatIntervalMs: limits.heartbeatIntervalMs,
    electionTimeoutMinMs: limits.electionTimeoutMinMs,
    electionTimeoutMaxMs: limits.electionTimeoutMaxMs,
    leaderLeaseMs: limits.leaderLeaseMs,
    appendEntriesMax: limits.appendEntriesMax,
    appendBytesMax: limits.appendBytesMax,
    snapshotChunkBytes: limits.snapshotChunkBytes,
    inflightAppendsMax: limits.inflightAppendsMax,
    uncommittedBytesMax: limits.uncommittedBytesMax,
    pendingProposalsMax: limits.pendingProposalsMax,
    proposalBytesMax: limits.proposalBytesMax,
    learnerCatchUpEntriesMax: limits.learnerCatchUpEntriesMax,
    applyBeforeCommit: false,
    ...required,
    ...overrides,
  };
}
