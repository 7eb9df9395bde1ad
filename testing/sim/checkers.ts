import type { Message } from "../../src/protocols/consensus/messages.js";
import type { Entry, Snapshot } from "../../src/protocols/consensus/types.js";
import type { History, Operation, ReadOperation } from "./history.js";
import type { MemberLog } from "./observed-storage.js";

export interface Violation {
  readonly checker: string;
  readonly timeMs: number;
  readonly detail: string;
}

/** What a read must reflect, fixed at the instant it was invoked. */
interface ReadFloor {
  /** The acknowledged write with the highest index so far. */
  readonly write: Operation | null;
  /** The ok read with the highest index so far. */
  readonly read: ReadOperation | null;
  /** The acknowledged write of the highest term so far: its leader exists and has acted. */
  readonly newestTerm: Operation | null;
}

interface AppliedRecord {
  readonly term: number;
  readonly payload: string;
  readonly hashAfter: number;
  readonly member: string;
}

const decoder = new TextDecoder();

/** How the checkers name an entry's content: a command's payload, or its kind. */
export function payloadOf(entry: Entry): string {
  if (entry.kind === "command") return decoder.decode(entry.data);
  if (entry.kind === "config") return `config:${entry.config?.voters.map((voter) => voter.id).join(",") ?? "?"}`;
  return entry.kind;
}

/**
 * Invariants checked continuously while the simulation runs, each fed by one observation
 * point (a message leaving, a batch written, an entry applied, a client acknowledgment). A
 * broken invariant becomes a Violation naming its checker; the run keeps going so the trace
 * shows what followed.
 */
export class Checkers {
  readonly violations: Violation[] = [];
  /** Limit on recorded violations per run: one bug tends to repeat. */
  private readonly violationsMax = 20;
  private readonly leaderOfTerm = new Map<number, string>();
  /** index -> term -> payload, from every member's log and applied entries ever. */
  private readonly logged = new Map<number, Map<number, string>>();
  /** index -> what was applied there (the first member to apply it sets it). */
  private readonly applied: Array<AppliedRecord | undefined> = [];
  /** index -> application hash after that index, from snapshots whose index nobody applied yet. */
  private readonly snapshotHash = new Map<number, number>();
  /** Members that recovered empty and have not yet been seen caught up (no longer empty). */
  private readonly emptyMembers = new Set<string>();
  private everFormed = false;
  /** Grants already checked by empty-member-votes: "type term voter candidate". */
  private readonly answersChecked = new Set<string>();
  /** "term candidate" -> voters that granted it a vote in that term. */
  private readonly votesGranted = new Map<string, Set<string>>();
  /** Whether each candidate said it was empty in its latest vote or pre-vote request. */
  private readonly candidateEmpty = new Map<string, boolean>();
  private nowMs = 0;
  private newestIndexAcknowledged: Operation | null = null;
  private newestTermAcknowledged: Operation | null = null;
  private newestIndexRead: ReadOperation | null = null;
  /** Per pending read (by read id): what it must reflect. Deleted once answered. */
  private readonly readFloors = new Map<number, ReadFloor>();

  constructor(private readonly history: History, private readonly logOf: (member: string) => MemberLog | null) {}

  setTime(nowMs: number): void {
    this.nowMs = nowMs;
  }

  fail(checker: string, detail: string): void {
    if (this.violations.length >= this.violationsMax) return;
    this.violations.push({ checker, timeMs: this.nowMs, detail });
  }

  // --- elections ----------------------------------------------------------------------------

  /**
   * `member` acts as leader of `term` (it said so, or it sent what only a leader sends). `empty`:
   * it won as an empty candidate, which only a first formation allows, or, for a candidate
   * with history (`voters` given: its WAL tail was cut, or it caught up in part), a unanimous
   * election: every other voter granted it a vote in that term.
   */
  leader(member: string, term: number, empty = false, voters: readonly string[] | null = null): void {
    const known = this.leaderOfTerm.get(term);
    if (known === member) return;
    if (known !== undefined) {
      this.fail("election-safety", `two leaders in term ${term}: ${known} and ${member}`);
      return;
    }
    if (empty && this.everFormed && voters === null) {
      this.fail("empty-member-votes", `${member} won term ${term} as an empty candidate without history after the cluster had formed`);
    }
    if (empty && voters !== null) {
      const granted = this.votesGranted.get(`${term} ${member}`) ?? new Set<string>();
      const missing = voters.filter((voter) => voter !== member && !granted.has(voter));
      if (missing.length > 0) {
        this.fail("empty-member-votes", `${member} won term ${term} as an empty candidate with history without a unanimous vote (no grant from ${missing.join(",")})`);
      }
    }
    this.leaderOfTerm.set(term, member);
    this.everFormed = true;
    this.leaderCompleteness(member, term);
  }

  /**
   * Raft's leader completeness (§5.4): an entry committed in a term is in the log of every
   * leader of a later term (or a snapshot covering it). An acknowledgment's term is the term
   * it was committed in. A leader of an earlier term may still act late (elected, then paused)
   * and owes nothing to later terms.
   */
  private leaderCompleteness(member: string, term: number): void {
    const log = this.logOf(member);
    if (log === null) return;
    for (const operation of this.history.acknowledged()) {
      if ((operation.term as number) >= term) continue;
      const index = operation.index as number;
      if (index <= log.snapshotIndex) continue;
      const entry = log.entryAt(index);
      if (entry === null || entry.term !== operation.term || payloadOf(entry) !== operation.payload) {
        const held = entry === null ? "nothing" : `${payloadOf(entry)}@t${entry.term}`;
        this.fail("leader-completeness",
          `${member} leads term ${term} but holds ${held} at index ${index}, where ${operation.payload}@t${operation.term} was acknowledged`);
        return;
      }
    }
  }

  // --- messages -------------------------------------------------------------------------------

  sent(message: Message): void {
    switch (message.type) {
      case "append":
      case "install-snapshot":
      case "timeout-now":
        this.leader(message.from, message.term);
        return;
      case "vote":
      case "pre-vote":
        this.candidateEmpty.set(message.from, message.empty);
        return;
      case "vote-response":
      case "pre-vote-response":
        if (!message.granted) return;
        this.grantedVote(message);
        return;
      case "append-response": {
        if (!message.success) return;
        const log = this.logOf(message.from);
        if (log !== null && message.matchIndex > log.durableLastIndex) {
          this.fail("durable-before-ack",
            `${message.from} acknowledges index ${message.matchIndex} to ${message.to} in term ${message.term} with only ${log.durableLastIndex} durable`);
        }
        return;
      }
      default:
        return;
    }
  }

  private grantedVote(message: Message & { type: "vote-response" | "pre-vote-response" }): void {
    const voter = message.from;
    // Non-empty rule: an empty member's grant helps an empty candidate (a first formation,
    // where nobody has history to lose), or completes a unanimous election for a member with
    // history; it judges that candidate's log only once it took part since its data loss (a
    // leader reached it, or it voted in the formation). An empty member that heard from nobody
    // since may only grant blind (which a unanimous election counts only when the grants that
    // judged are a majority, quorum.ts).
    const candidateEmpty = this.candidateEmpty.get(message.to) ?? false;
    const log = this.logOf(voter);
    // Evidence is a durable entry or a durable term from before this answer: the vote answered
    // here is itself durable by now, and is no evidence of having taken part before it.
    const first = log?.firstDurableTerm ?? null;
    const earlierTerm = first !== null && !(first.term === message.term && first.votedFor === message.to);
    const tookPart = log !== null && (log.durableLastIndex > 0 || earlierTerm);
    // A repeated answer to one candidate in one term repeats a decision checked the first time
    // (after a restart the vote's own durable term reads as taking part: receive.ts).
    const answerKey = `${message.type} ${message.term} ${voter} ${message.to}`;
    const repeated = this.answersChecked.has(answerKey);
    this.answersChecked.add(answerKey);
    if ((message.empty || this.emptyMembers.has(voter)) && !candidateEmpty && !tookPart && !message.blind && !repeated) {
      this.fail("empty-member-votes",
        `${voter} is empty (${message.empty ? "says so" : "recovered empty"}) and took no part since its data loss, yet grants a ${message.type} to ${message.to} (not empty) in term ${message.term}, not blind`);
    }
    if (message.type !== "vote-response") return;
    const key = `${message.term} ${message.to}`;
    const granted = this.votesGranted.get(key) ?? new Set<string>();
    granted.add(voter);
    this.votesGranted.set(key, granted);
    if (log === null) return;
    const hard = log.durableHardState;
    if (hard.term < message.term || (hard.term === message.term && hard.votedFor !== message.to)) {
      this.fail("durable-before-vote",
        `${voter} grants its term ${message.term} vote to ${message.to} while its durable hard state is term ${hard.term} votedFor ${hard.votedFor ?? "none"}`);
    }
  }

  /** A member restarted; `empty` if its storage came back untrustworthy. */
  recovered(member: string, empty: boolean): void {
    if (empty) this.emptyMembers.add(member);
    else this.emptyMembers.delete(member);
  }

  /** The member reports itself no longer empty: it has caught up. */
  caughtUp(member: string): void {
    this.emptyMembers.delete(member);
  }

  isEmpty(member: string): boolean {
    return this.emptyMembers.has(member);
  }

  // --- logs ---------------------------------------------------------------------------------

  /** Log matching: one (index, term) names one entry on every member, forever. */
  logEntries(member: string, entries: readonly Entry[]): void {
    for (const entry of entries) this.logEntry(member, entry.index, entry.term, payloadOf(entry));
  }

  private logEntry(member: string, index: number, term: number, payload: string): void {
    let terms = this.logged.get(index);
    if (terms === undefined) this.logged.set(index, (terms = new Map()));
    const known = terms.get(term);
    if (known === undefined) terms.set(term, payload);
    else if (known !== payload) {
      this.fail("log-matching", `${member} holds ${payload} at index ${index} term ${term}, another member held ${known}`);
    }
  }

  // --- application ----------------------------------------------------------------------------

  /** State machine safety: every member applies the same entry at each index, in order. */
  appliedEntry(member: string, entry: Entry, payload: string, hashAfter: number): void {
    this.logEntry(member, entry.index, entry.term, payload);
    const known = this.applied[entry.index];
    if (known === undefined) {
      this.applied[entry.index] = { term: entry.term, payload, hashAfter, member };
      const fromSnapshot = this.snapshotHash.get(entry.index);
      if (fromSnapshot !== undefined && fromSnapshot !== hashAfter) {
        this.fail("state-machine-safety", `${member} state hash ${hashAfter} after index ${entry.index}, a snapshot there had ${fromSnapshot}`);
      }
      this.matchAcknowledged(member, entry.index, entry.term, payload);
      return;
    }
    if (known.term !== entry.term || known.payload !== payload) {
      this.fail("state-machine-safety",
        `${member} applies ${payload}@t${entry.term} at index ${entry.index}, ${known.member} applied ${known.payload}@t${known.term}`);
    } else if (known.hashAfter !== hashAfter) {
      this.fail("state-machine-safety",
        `${member} state hash ${hashAfter} after index ${entry.index} differs from ${known.member}'s ${known.hashAfter}: a different history before it`);
    }
  }

  restoredSnapshot(member: string, snapshot: Snapshot, hash: number): void {
    const known = this.applied[snapshot.index];
    if (known !== undefined) {
      if (known.hashAfter !== hash || known.term !== snapshot.term) {
        this.fail("state-machine-safety",
          `${member} restores a snapshot at ${snapshot.index}/t${snapshot.term} hash ${hash}, ${known.member} applied t${known.term} hash ${known.hashAfter}`);
      }
      return;
    }
    const other = this.snapshotHash.get(snapshot.index);
    if (other !== undefined && other !== hash) {
      this.fail("state-machine-safety", `two snapshots at index ${snapshot.index} with hashes ${other} and ${hash}`);
    }
    this.snapshotHash.set(snapshot.index, hash);
  }

  // --- clients ----------------------------------------------------------------------------------

  /** A client was told its command committed at (index, term). */
  acknowledged(operation: Operation): void {
    const index = operation.index as number;
    if (index > (this.newestIndexAcknowledged?.index ?? 0)) this.newestIndexAcknowledged = operation;
    if ((operation.term as number) > (this.newestTermAcknowledged?.term ?? 0)) this.newestTermAcknowledged = operation;
    const first = this.history.acknowledgedAt(index);
    if (first !== undefined && first !== operation) {
      this.fail("acknowledged-kept", `${operation.payload} and ${first.payload} both acknowledged at index ${index}`);
    }
    const known = this.applied[index];
    if (known !== undefined && (known.payload !== operation.payload || known.term !== operation.term)) {
      this.fail("acknowledged-kept",
        `${operation.payload} acknowledged at ${index}/t${operation.term}, but ${known.member} applied ${known.payload}@t${known.term} there`);
    }
  }

  /**
   * A read was invoked. Everything acknowledged until now (in the simulator's one global order
   * of events, so "before" is exact) is what its answer must reflect.
   */
  readInvoked(read: ReadOperation): void {
    this.readFloors.set(read.readId, {
      write: this.newestIndexAcknowledged,
      read: this.newestIndexRead,
      newestTerm: this.newestTermAcknowledged,
    });
  }

  /**
   * A read was answered `read-ready` at `read.index` by `read.member` leading `read.term`.
   *
   * linearizable-read: every write acknowledged (its client told "committed") before the read
   * was invoked has an index <= the answered index, and so does every read answered before it
   * was invoked (a later read never sees an older state).
   *
   * stale-leader-read: the member answered no earlier than the read's invocation. If by then the
   * leader of a higher term had already acknowledged a write, that leader was elected, which
   * followers allow only after the old leader's lease ended: the old leader served a read
   * without a lease. (A member answering while its notifications say it does not lead at all
   * is the same failure.) Both times are the scheduler's, one clock for the whole group.
   */
  readAnswered(read: ReadOperation): void {
    const floor = this.readFloors.get(read.readId);
    if (floor === undefined) {
      this.fail("linearizable-read", `read r${read.readId} answered at ${read.member} but never invoked`);
      return;
    }
    this.readFloors.delete(read.readId);
    const index = read.index as number;
    const what = `${read.member} answers read r${read.readId} (invoked at ${read.invokedAtMs}ms) at index ${index}`;
    const write = floor.write;
    if (write !== null && (write.index as number) > index) {
      this.fail("linearizable-read",
        `${what}, but ${write.payload} was acknowledged at index ${write.index}/t${write.term} at ${write.completedAtMs}ms, before the read was invoked`);
    }
    const earlier = floor.read;
    if (earlier !== null && (earlier.index as number) > index) {
      this.fail("linearizable-read",
        `${what}, but read r${earlier.readId} was answered at index ${earlier.index} by ${earlier.member} at ${earlier.completedAtMs}ms, before this read was invoked`);
    }
    const newer = floor.newestTerm;
    if (read.term === null) {
      this.fail("stale-leader-read", `${what} while its notifications say it does not lead`);
    } else if (newer !== null && (newer.term as number) > read.term) {
      this.fail("stale-leader-read",
        `${what} as leader of term ${read.term}, but the leader of term ${newer.term} had acknowledged ${newer.payload} at ${newer.completedAtMs}ms, ` +
        `before the read was invoked: the term ${read.term} lease must have ended`);
    }
    if (index > (this.newestIndexRead?.index ?? -1)) this.newestIndexRead = read;
  }

  private matchAcknowledged(member: string, index: number, term: number, payload: string): void {
    const operation = this.history.acknowledgedAt(index);
    if (operation !== undefined && (operation.payload !== payload || operation.term !== term)) {
      this.fail("acknowledged-kept",
        `${member} applies ${payload}@t${term} at index ${index}, where ${operation.payload}@t${operation.term} was acknowledged`);
    }
    const failed = this.history.failedPayload(payload);
    if (failed !== undefined) {
      this.fail("failed-not-applied", `${member} applies ${payload} at index ${index}, but the client was told it failed (${failed.detail})`);
    }
  }

  /**
   * At the end: every acknowledged command is applied at its index (by someone, and by every
   * member whose applied state reaches that index, which the hashes already compare).
   */
  finalCheck(appliedIndexOf: ReadonlyMap<string, number>): void {
    for (const operation of this.history.acknowledged()) {
      const index = operation.index as number;
      const known = this.applied[index];
      if (known === undefined) {
        // Covered by snapshots only? Then the hash comparisons stand in for it; else it is lost.
        const reached = [...appliedIndexOf.values()].some((applied) => applied >= index);
        if (!reached) {
          this.fail("acknowledged-kept", `${operation.payload} acknowledged at ${index}/t${operation.term} but no member applied that far`);
        }
        continue;
      }
      if (known.payload !== operation.payload || known.term !== operation.term) {
        this.fail("acknowledged-kept",
          `${operation.payload} acknowledged at ${index}/t${operation.term}, ${known.member} applied ${known.payload}@t${known.term}`);
      }
    }
  }
}
