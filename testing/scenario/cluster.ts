import { Prng } from "../../src/kernel/prng.js";
import type { Notification, Ready } from "../../src/protocols/consensus/effects.js";
import type { Input, RecoveredState } from "../../src/protocols/consensus/inputs.js";
import type { Message } from "../../src/protocols/consensus/messages.js";
import { ConsensusNode } from "../../src/protocols/consensus/node.js";
import { consensusOptions, type ConsensusOptions } from "../../src/protocols/consensus/options.js";
import type { Entry, HardState, MemberDefinition, MemberId, Snapshot } from "../../src/protocols/consensus/types.js";

/**
 * A small, fully controlled cluster for scenario transcripts: global virtual time in fixed
 * steps, messages delivered at once unless a link is cut, persistence instant (a crash keeps
 * exactly what was persisted). Unlike the simulator it injects only the faults a script asks
 * for, so transcripts read like the spec.
 */
export class ScenarioCluster {
  readonly members = new Map<MemberId, ScenarioMember>();
  nowMs = 0;
  readonly stepMs = 10;
  private readonly cut = new Set<string>();
  private readonly events: string[] = [];
  private proposalSeq = 0;

  constructor(
    readonly definitions: readonly MemberDefinition[],
    private readonly seed: number,
    private readonly overrides: Partial<ConsensusOptions>,
    fresh: boolean,
  ) {
    for (const definition of definitions) {
      const member = new ScenarioMember(definition.id);
      member.durable.hardState = { term: 0, votedFor: null, empty: fresh };
      this.members.set(definition.id, member);
      this.start(member);
    }
  }

  private start(member: ScenarioMember): void {
    const options = consensusOptions(
      { id: member.id, definedMembers: this.definitions, random: new Prng(this.seed * 31 + member.id.charCodeAt(0)) },
      this.overrides,
    );
    member.node = new ConsensusNode(options, member.recovered(), this.nowMs);
    member.running = true;
    member.paused = false;
    member.applied = member.durable.snapshot ? [...member.snapshotApplied] : [];
  }

  takeEvents(): string[] {
    return this.events.splice(0);
  }

  /** A new, empty member process (to be added with a membership change). */
  addMember(definition: MemberDefinition): void {
    const member = new ScenarioMember(definition.id);
    member.durable.hardState = { term: 0, votedFor: null, empty: true };
    this.members.set(definition.id, member);
    this.start(member);
  }

  leader(): MemberId {
    for (const member of this.members.values()) {
      if (member.running && !member.paused && member.node.status().role === "leader") return member.id;
    }
    throw new Error("no leader");
  }

  // --- faults -------------------------------------------------------------------------------

  cutLink(from: MemberId, to: MemberId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  crash(id: MemberId): void {
    const member = this.member(id);
    member.running = false;
    member.inbox = [];
  }

  restart(id: MemberId): void {
    this.start(this.member(id));
  }

  wipe(id: MemberId): void {
    const member = this.member(id);
    member.durable = { hardState: { term: 0, votedFor: null, empty: true }, snapshot: null, entries: [] };
    member.snapshotApplied = [];
    this.start(member);
  }

  /**
   * The member restarts after its WAL recovery had to cut a torn tail: with `count` > 0 the
   * disk also lost the last `count` entries it had persisted (synced records, e.g. a lying
   * fsync); with 0 only a record that was never synced was torn (a power loss). Recovery
   * cannot tell the two apart, so it comes back empty with its log, as WalStorage does.
   */
  loseTail(id: MemberId, count: number): void {
    const member = this.member(id);
    member.durable.entries = member.durable.entries.slice(0, Math.max(0, member.durable.entries.length - count));
    member.durable.hardState = { ...member.durable.hardState, empty: true };
    this.start(member);
  }

  // --- inputs -------------------------------------------------------------------------------

  input(id: MemberId, input: Input): void {
    const member = this.member(id);
    if (!member.running) throw new Error(`${id} is not running`);
    member.node.step(this.nowMs, input);
    this.settle();
  }

  propose(id: MemberId, text: string): number {
    this.proposalSeq += 1;
    this.input(id, { type: "propose", proposals: [{ proposalId: this.proposalSeq, data: new TextEncoder().encode(text) }] });
    return this.proposalSeq;
  }

  /** Advance time by `durationMs`, ticking every member and delivering messages. */
  run(durationMs: number): void {
    const end = this.nowMs + durationMs;
    while (this.nowMs < end) {
      this.nowMs += this.stepMs;
      for (const member of this.members.values()) {
        if (member.running && !member.paused) member.node.step(this.nowMs, { type: "tick" });
      }
      this.settle();
    }
  }

  /** Advance step by step until some member leads (at most `durationMs`). */
  runUntilLeader(durationMs: number): void {
    const end = this.nowMs + durationMs;
    while (this.nowMs < end) {
      this.run(this.stepMs);
      for (const member of this.members.values()) if (member.running && member.node.status().role === "leader") return;
    }
  }

  /** Deliver and execute effects until nothing moves (bounded). */
  settle(): void {
    for (let round = 0; round < 1000; round += 1) {
      let moved = false;
      for (const member of this.members.values()) {
        if (!member.running || member.paused) continue;
        while (member.node.hasReady()) {
          this.execute(member, member.node.takeReady());
          moved = true;
        }
        const inbox = member.inbox;
        member.inbox = [];
        for (const message of inbox) {
          member.node.step(this.nowMs, { type: "message", message });
          moved = true;
        }
      }
      if (!moved) return;
    }
    throw new Error("cluster did not settle within 1000 rounds");
  }

  private execute(member: ScenarioMember, ready: Ready): void {
    for (const message of ready.messages) this.deliver(message);
    const persist = ready.persist;
    if (persist) {
      const durable = member.durable;
      if (persist.snapshot) {
        durable.snapshot = persist.snapshot;
        durable.entries = durable.entries.filter((entry) => entry.index > persist.snapshot!.index);
      }
      if (persist.truncateFrom !== null) durable.entries = durable.entries.filter((entry) => entry.index < persist.truncateFrom!);
      durable.entries.push(...persist.entries);
      if (persist.hardState) durable.hardState = persist.hardState;
      const last = persist.entries[persist.entries.length - 1];
      const through = last ? { index: last.index, term: last.term } : null;
      if (through || persist.hardState) member.node.step(this.nowMs, { type: "persisted", through, hardState: persist.hardState });
    }
    for (const message of ready.messagesAfterPersist) this.deliver(message);
    if (ready.applySnapshot) {
      member.applied = snapshotTexts(ready.applySnapshot);
      member.snapshotApplied = [...member.applied];
    }
    for (const entry of ready.apply) if (entry.kind === "command") member.applied.push(new TextDecoder().decode(entry.data));
    for (const notification of ready.notify) this.record(member, notification);
  }

  private deliver(message: Message): void {
    if (this.cut.has(`${message.from}>${message.to}`)) return;
    const target = this.members.get(message.to);
    if (!target || !target.running) return;
    target.inbox.push(message);
  }

  private record(member: ScenarioMember, notification: Notification): void {
    const at = `${this.nowMs}ms ${member.id}`;
    switch (notification.type) {
      case "role-changed":
        if (notification.role === "leader") this.events.push(`${at}: leader in term ${notification.term}`);
        else if (notification.role === "candidate") this.events.push(`${at}: campaigns in term ${notification.term}`);
        else this.events.push(`${at}: follower in term ${notification.term} (leader ${notification.leaderId ?? "none"})`);
        return;
      case "committed":
        this.events.push(`${at}: proposal ${notification.proposalId} committed at ${notification.index}`);
        return;
      case "proposal-rejected":
        this.events.push(`${at}: proposal ${notification.proposalId} rejected: ${notification.reason} (leader ${notification.leaderId ?? "unknown"})`);
        return;
      case "proposal-unknown":
        this.events.push(`${at}: proposal ${notification.proposalId} outcome unknown`);
        return;
      case "read-ready":
        this.events.push(`${at}: read ${notification.readId} ready at ${notification.index}`);
        return;
      case "read-rejected":
        this.events.push(`${at}: read ${notification.readId} rejected: ${notification.reason}`);
        return;
      case "membership-rejected":
        this.events.push(`${at}: refused: ${notification.reason}`);
        return;
      case "force-quorum": {
        const report = notification.report;
        this.events.push(
          `${at}: forced quorum in term ${report.term}: voters ${report.voters.join(",")}; unreachable ${report.unreachable.join(",") || "none"}; ` +
            `kept through ${report.kept.index} (term ${report.kept.term}); entries after ${report.mayBeLostAfterIndex} may be lost; ` +
            `known committed through ${report.knownCommittedIndex}`,
        );
        return;
      }
    }
  }

  member(id: MemberId): ScenarioMember {
    const member = this.members.get(id);
    if (!member) throw new Error(`no member ${id}`);
    return member;
  }
}

export class ScenarioMember {
  node!: ConsensusNode;
  running = false;
  paused = false;
  inbox: Message[] = [];
  applied: string[] = [];
  snapshotApplied: string[] = [];
  durable: { hardState: HardState; snapshot: Snapshot | null; entries: Entry[] } = {
    hardState: { term: 0, votedFor: null, empty: false },
    snapshot: null,
    entries: [],
  };

  constructor(readonly id: MemberId) {}

  recovered(): RecoveredState {
    return { hardState: this.durable.hardState, snapshot: this.durable.snapshot, entries: [...this.durable.entries] };
  }
}

/** The scenario application's snapshot is the list of applied command texts, as JSON. */
export function snapshotTexts(snapshot: Snapshot): string[] {
  return JSON.parse(new TextDecoder().decode(snapshot.data)) as string[];
}
