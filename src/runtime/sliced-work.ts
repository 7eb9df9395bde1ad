import { assert } from "../kernel/assert.js";
import type { Clock, TimerHandle } from "./ports.js";

/**
 * What a job answers when asked to work: finished, stopped because its slice is over (call
 * again on a later turn), or waiting for something else (call again after `retryMs`).
 */
export type JobProgress = "done" | "more" | { readonly waitMs: number };

/**
 * One piece of work run in slices. `run` does as much as it can while `more()` is true (it
 * checks after each unit: an entry, a chunk) and says how far it got. A job may do at least
 * one unit per call however long it takes, so a slice overruns by at most one unit.
 */
export interface SlicedJob {
  run(more: () => boolean): JobProgress;
  /**
   * True for work a later `supersede()` makes pointless (applying entries to a state a restore
   * is about to replace); such a job is dropped, even half done. Others (notifications) run.
   */
  readonly supersedable: boolean;
}

/** Work done alongside the queue (encoding a captured snapshot): it gets what a slice leaves. */
export interface BackgroundJob {
  run(more: () => boolean): "done" | "more";
}

/**
 * Runs a member's application work in order, in slices of at most about `sliceMs`, yielding
 * the event loop between slices (clock.defer), so heartbeats, votes and lease renewals keep
 * flowing while a long log is applied, a snapshot restored or built. A job pushed onto an idle
 * queue starts at once, in the caller's turn: small work costs no extra latency.
 *
 * The queue (foreground) is strictly first in, first out: effects.ts's ordering contract holds
 * because every apply, restore and notification of the replica goes through it. Background
 * jobs run only in what is left of a slice once the queue is empty or waiting.
 */
export class SlicedWork {
  private readonly queue: SlicedJob[] = [];
  private head = 0;
  private readonly background: BackgroundJob[] = [];
  private running = false;
  private deferred = false;
  private waitTimer: TimerHandle | null = null;
  private stopped = false;
  /** Slices that ran to their bound and yielded (a measure of long work, for status). */
  slicesYielded = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sliceMs: number,
  ) {
    assert(sliceMs > 0, `sliceMs ${sliceMs}`);
  }

  /** Jobs queued and not finished. */
  get length(): number {
    return this.queue.length - this.head;
  }

  get idle(): boolean {
    return this.length === 0 && this.background.length === 0;
  }

  push(job: SlicedJob): void {
    if (this.stopped) return;
    this.queue.push(job);
    this.pump();
  }

  pushBackground(job: BackgroundJob): void {
    if (this.stopped) return;
    this.background.push(job);
    this.pump();
  }

  /** Drop every queued supersedable job, the one under way included (see SlicedJob). */
  supersede(): void {
    let kept = this.head;
    for (let i = this.head; i < this.queue.length; i++) {
      const job = this.queue[i] as SlicedJob;
      if (!job.supersedable) this.queue[kept++] = job;
    }
    this.queue.length = kept;
  }

  /** Nothing more runs; queued work is dropped. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.head = 0;
    this.background.length = 0;
    this.waitTimer?.cancel();
    this.waitTimer = null;
  }

  /** Run until the slice is over, then continue on a later turn. Re-entrant calls return. */
  private pump(): void {
    if (this.running || this.deferred || this.waitTimer !== null || this.stopped) return;
    this.running = true;
    const deadlineMs = this.clock.nowMs() + this.sliceMs;
    const more = (): boolean => this.clock.nowMs() < deadlineMs;
    let waitMs: number | null = null;
    try {
      waitMs = this.runQueue(more);
      if (waitMs === null || more()) this.runBackground(more);
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (waitMs !== null && this.background.length === 0) {
      this.waitTimer = this.clock.setTimer(waitMs, () => {
        this.waitTimer = null;
        this.pump();
      });
    } else if (!this.idle) {
      this.slicesYielded += 1;
      this.deferred = true;
      this.clock.defer(() => {
        this.deferred = false;
        this.pump();
      });
    }
  }

  /** The queue's jobs in order while the slice lasts; how long the head waits, if it does. */
  private runQueue(more: () => boolean): number | null {
    while (this.head < this.queue.length && !this.stopped) {
      const job = this.queue[this.head] as SlicedJob;
      const progress = job.run(more);
      if (progress === "done") {
        // A job may have superseded others (and so moved the head): drop it only if still there.
        if (this.queue[this.head] === job) this.head++;
        this.compact();
        if (!more()) return null;
        continue;
      }
      if (progress === "more") return null;
      return progress.waitMs;
    }
    return null;
  }

  private runBackground(more: () => boolean): void {
    while (this.background.length > 0 && !this.stopped) {
      const job = this.background[0] as BackgroundJob;
      if (job.run(more) === "more") return;
      this.background.shift();
      if (!more()) return;
    }
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
