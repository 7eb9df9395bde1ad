import { assert } from "../../src/kernel/assert.js";
import type { Clock, TimerHandle } from "../../src/runtime/ports.js";

/**
 * Whose event it is. Events of a dead owner (a crashed member's old process) are dropped;
 * events of a paused owner are held until it resumes. The simulator makes one owner per member
 * incarnation; `null` owns events of the world itself (faults, clients, the network's clock).
 */
export interface EventOwner {
  readonly member: string;
  alive: boolean;
}

interface ScheduledEvent {
  timeMs: number;
  sequence: number;
  readonly owner: EventOwner | null;
  readonly action: () => void;
  cancelled: boolean;
}

/**
 * A virtual clock and a queue of events ordered by time, then by insertion sequence, so a run is
 * a pure function of its seed. Nothing runs concurrently: one event at a time.
 */
export class Scheduler {
  private nowMs = 0;
  private sequence = 0;
  private readonly heap: ScheduledEvent[] = [];
  private readonly paused = new Set<string>();
  private readonly held = new Map<string, ScheduledEvent[]>();
  /** Events run so far (a cheap measure of work). */
  eventsRun = 0;

  now(): number {
    return this.nowMs;
  }

  /** Run `action` after `delayMs` of virtual time. */
  schedule(delayMs: number, owner: EventOwner | null, action: () => void): TimerHandle {
    assert(delayMs >= 0 && Number.isFinite(delayMs), `bad delay ${delayMs}`);
    const event: ScheduledEvent = { timeMs: this.nowMs + delayMs, sequence: this.sequence++, owner, action, cancelled: false };
    this.push(event);
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
      }
      assert(top.timeMs >= this.nowMs, "time went backwards");
      this.nowMs = top.timeMs;
      this.eventsRun++;
      top.action();
      if (stop()) return;
    }
    if (this.nowMs < untilMs) this.nowMs = untilMs;
  }

  /** A member's view of time: the shared virtual clock, its timers tied to one incarnation. */
  clockFor(owner: EventOwner): Clock {
    return {
      nowMs: () => this.nowMs,
      setTimer: (delayMs, callback) => this.schedule(delayMs, owner, callback),
      // Same virtual instant, after the events already queued for it.
      defer: (callback) => void this.schedule(0, owner, callback),
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
