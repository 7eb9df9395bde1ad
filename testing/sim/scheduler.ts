import { assert } from "../../src/kernel/assert.js";
import type { Clock, TimerHandle } from "../../src/runtime/ports.js";

/** A member's clock in the simulator: also told how long the work it just did took. */
export interface SimClock extends Clock {
  /** `workMs` of CPU spent in this synchronous stretch (cost-model.ts): local time moves on. */
  charge(workMs: number): void;
}

/**
 * Whose event it is. Events of a dead owner (a crashed member's old process) are dropped;
 * events of a paused owner are held until it resumes. The simulator makes one owner per member
 * incarnation; `null` owns events of the world itself (faults, clients, the network's clock).
 */
export interface EventOwner {
  readonly member: string;
  alive: boolean;
}

/**
 * Which phase of Node's event loop would run the event: after a long synchronous stretch,
 * expired timers run first, then I/O callbacks (sockets, disk), then setImmediate callbacks.
 * It matters: a leader's check-quorum timer then fires before it reads the heartbeat answers
 * that arrived while it was busy.
 */
export type EventPhase = "timer" | "io" | "immediate";

const phaseOrder: Readonly<Record<EventPhase, number>> = { timer: 0, io: 1, immediate: 2 };

interface ScheduledEvent {
  timeMs: number;
  sequence: number;
  readonly owner: EventOwner | null;
  readonly action: () => void;
  readonly phase: EventPhase;
  /** When it first fell due, and in what order it was made: a busy member's release order. */
  readonly dueMs: number;
  readonly order: number;
  cancelled: boolean;
}

/**
 * A virtual clock and a queue of events ordered by time, then by insertion sequence, so a run is
 * a pure function of its seed. Nothing runs concurrently: one event at a time.
 *
 * Work takes time. A member charges the CPU time of what it does (applying entries, recovering
 * its WAL, building a snapshot, delivering); its local clock then runs ahead of the world's by
 * that much, what it sends or sets meanwhile starts from its local time, and every event of
 * its own (timers, messages reaching it, disk callbacks) waits until it is done, as a blocked
 * event loop makes them wait. A member that applies a long log in one stretch so misses its
 * heartbeats here as a real process does.
 */
export class Scheduler {
  private nowMs = 0;
  private sequence = 0;
  private readonly heap: ScheduledEvent[] = [];
  private readonly paused = new Set<string>();
  private readonly held = new Map<string, ScheduledEvent[]>();
  /** Per member, the virtual time its current work ends (absent or in the past: idle). */
  private readonly busyUntil = new Map<string, number>();
  /** Per busy member, its events that fell due while it worked, in the order they fell due. */
  private readonly stalled = new Map<string, ScheduledEvent[]>();
  /** Events run so far (a cheap measure of work). */
  eventsRun = 0;

  now(): number {
    return this.nowMs;
  }

  /** Run `action` after `delayMs` of virtual time (in Node's `phase`, for a busy member). */
  schedule(delayMs: number, owner: EventOwner | null, action: () => void, phase: EventPhase = "io"): TimerHandle {
    assert(delayMs >= 0 && Number.isFinite(delayMs), `bad delay ${delayMs}`);
    const sequence = this.sequence++;
    const timeMs = this.nowMs + delayMs;
    const event: ScheduledEvent = { timeMs, sequence, owner, action, phase, dueMs: timeMs, order: sequence, cancelled: false };
    const busyUntil = owner === null ? undefined : this.busyUntil.get(owner.member);
    // Due while its member is still busy (what it sets up during its own work, too): it waits
    // for the release, which orders it among the others as Node's loop would.
    if (owner !== null && busyUntil !== undefined && busyUntil >= timeMs && busyUntil > this.nowMs) this.stall(owner.member, event, busyUntil);
    else this.push(event);
    return { cancel: () => { event.cancelled = true; } };
  }

  /** Hold every event of `member` (its timers, deliveries to it, its disk callbacks). */
  pause(member: string): void {
    this.paused.add(member);
  }

  /** Release a paused member's held events at the current time, in their original order. */
  resume(member: string): void {
    if (!this.paused.delete(member)) return;
    const held = this.held.get(member) ?? [];
    this.held.delete(member);
    for (const event of held) {
      if (event.cancelled || (event.owner !== null && !event.owner.alive)) continue;
      // The same object, so a TimerHandle taken before the pause still cancels it.
      event.timeMs = this.nowMs;
      event.sequence = this.sequence++;
      this.push(event);
    }
  }

  isPaused(member: string): boolean {
    return this.paused.has(member);
  }

  /** `member` spent `workMs` of CPU: its events wait until that work is done. */
  charge(member: string, workMs: number): void {
    assert(workMs >= 0 && Number.isFinite(workMs), `bad work ${workMs}`);
    if (workMs === 0) return;
    this.busyUntil.set(member, this.localNow(member) + workMs);
  }

  /** The member's own time: the world's, or later while it is still busy with work. */
  localNow(member: string): number {
    const busy = this.busyUntil.get(member);
    return busy !== undefined && busy > this.nowMs ? busy : this.nowMs;
  }

  /** How far the member's local time runs ahead of the world's (0 when idle). */
  lagMs(member: string): number {
    return this.localNow(member) - this.nowMs;
  }

  /** Paused or still busy with work: what reaches it now must wait. */
  isHeld(member: string): boolean {
    return this.paused.has(member) || this.lagMs(member) > 0;
  }

  /** The member's process ended: whatever it was doing stops with it. */
  forgetWork(member: string): void {
    this.busyUntil.delete(member);
  }

  /** Hold an event of a busy member until its work ends; the first held sets up the release. */
  private stall(member: string, event: ScheduledEvent, busyUntil: number): void {
    const list = this.stalled.get(member);
    if (list !== undefined) {
      list.push(event);
      return;
    }
    this.stalled.set(member, [event]);
    this.schedule(busyUntil - this.nowMs, null, () => this.release(member));
  }

  /**
   * The member's work is done (or it died): what fell due meanwhile runs now, timers first,
   * then I/O, then immediates, each in the order it fell due (immediates: in the order they
   * were queued, the member's own included), as Node's loop would run them.
   */
  private release(member: string): void {
    const busyUntil = this.busyUntil.get(member);
    if (busyUntil !== undefined && busyUntil > this.nowMs) {
      // More work was charged since: release when that is done.
      this.schedule(busyUntil - this.nowMs, null, () => this.release(member));
      return;
    }
    const list = this.stalled.get(member) ?? [];
    this.stalled.delete(member);
    const ordered = list.sort((a, b) => phaseOrder[a.phase] - phaseOrder[b.phase] || a.dueMs - b.dueMs || a.order - b.order);
    for (const event of ordered) {
      event.timeMs = this.nowMs;
      event.sequence = this.sequence++;
      this.push(event);
    }
  }

  /** Run events until the queue is empty, virtual time passes `untilMs`, or `stop()` is true. */
  runUntil(untilMs: number, stop: () => boolean = () => false): void {
    while (this.heap.length > 0) {
      const top = this.heap[0] as ScheduledEvent;
      if (top.timeMs > untilMs) break;
      this.pop();
      if (top.cancelled) continue;
      const owner = top.owner;
      if (owner !== null) {
        if (!owner.alive) continue;
        if (this.paused.has(owner.member)) {
          let list = this.held.get(owner.member);
          if (list === undefined) this.held.set(owner.member, (list = []));
          list.push(top);
          continue;
        }
        const busyUntil = this.busyUntil.get(owner.member);
        if (busyUntil !== undefined && busyUntil > top.timeMs) {
          this.stall(owner.member, top, busyUntil);
          continue;
        }
      }
      assert(top.timeMs >= this.nowMs, "time went backwards");
      this.nowMs = top.timeMs;
      this.eventsRun++;
      top.action();
      if (stop()) return;
    }
    if (this.nowMs < untilMs) this.nowMs = untilMs;
  }

  /**
   * A member's view of time: the shared virtual clock plus the work it is doing now, its timers
   * tied to one incarnation and counted from its local time.
   */
  clockFor(owner: EventOwner): SimClock {
    const member = owner.member;
    return {
      nowMs: () => this.localNow(member),
      setTimer: (delayMs, callback) => this.schedule(delayMs + this.lagMs(member), owner, callback, "timer"),
      // Same (local) instant, after the events already queued for it.
      defer: (callback) => void this.schedule(this.lagMs(member), owner, callback, "immediate"),
      charge: (workMs) => {
        if (owner.alive) this.charge(member, workMs);
      },
    };
  }

  private push(event: ScheduledEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent] as ScheduledEvent)) break;
      heap[i] = heap[parent] as ScheduledEvent;
      i = parent;
    }
    heap[i] = event;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as ScheduledEvent;
    if (heap.length === 0) return;
    let i = 0;
    const length = heap.length;
    while (true) {
      const left = 2 * i + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && before(heap[right] as ScheduledEvent, heap[left] as ScheduledEvent)) child = right;
      if (!before(heap[child] as ScheduledEvent, last)) break;
      heap[i] = heap[child] as ScheduledEvent;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.sequence < b.sequence);
}
