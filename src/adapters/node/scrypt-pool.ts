import { Worker } from "node:worker_threads";
import { assert } from "../../kernel/assert.js";

export interface ScryptJob {
  readonly plain: string;
  readonly salt: Uint8Array;
  readonly keyBytes: number;
  readonly N: number;
  readonly r: number;
  readonly p: number;
  /** scrypt's memory bound for this cost (see realm/passwords.ts). */
  readonly maxmemBytes: number;
}

export interface ScryptPoolOptions {
  /** Worker threads, each running one scrypt at a time. */
  readonly workers: number;
  /** Jobs waiting for a worker; `derive` refuses more (returns null). */
  readonly queuedMax: number;
}

/**
 * What each worker runs. It calls the synchronous scrypt, which computes on the worker's own
 * thread: the asynchronous one would go to libuv's pool of 4 threads, the same pool that runs
 * the WAL's fsync, and a flood of logins would then delay every commit. Plain CommonJS given
 * as text, so it runs the same from the sources (tsx, vitest) and from the build.
 */
const workerSource = `
const { parentPort } = require("node:worker_threads");
const { scryptSync } = require("node:crypto");
parentPort.on("message", (job) => {
  try {
    const key = scryptSync(job.plain, job.salt, job.keyBytes, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmemBytes });
    parentPort.postMessage({ key });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
});
`;

interface Pending {
  readonly job: ScryptJob;
  readonly resolve: (key: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  running: Pending | null;
}

/**
 * A bounded pool of worker threads for scrypt: at most `workers` run at once, at most
 * `queuedMax` wait, and a job past that is refused at once (the caller answers `busy`) rather
 * than queued without end. Workers start on first use and keep the process alive only while they compute.
 */
export class ScryptPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;

  constructor(private readonly options: ScryptPoolOptions) {
    assert(options.workers >= 1, "a scrypt pool needs at least one worker");
  }

  /** Jobs running or waiting now. */
  get load(): number {
    return this.queue.length + this.slots.filter((slot) => slot.running !== null).length;
  }

  /** The derived key, or null when the queue is full (refused at once, nothing started). */
  derive(job: ScryptJob): Promise<Uint8Array> | null {
    if (this.closed) return Promise.reject(new Error("the password check pool is closed"));
    const idle = this.slots.find((slot) => slot.running === null) ?? this.spawn();
    if (idle === undefined && this.queue.length >= this.options.queuedMax) return null;
    return new Promise((resolve, reject) => {
      const pending = { job, resolve, reject };
      if (idle !== undefined) this.start(idle, pending);
      else this.queue.push(pending);
    });
  }

  /** Stops the workers; jobs running or waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error("the password check pool is closed");
    for (const pending of this.queue.splice(0)) pending.reject(error);
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.running?.reject(error);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private spawn(): Slot | undefined {
    if (this.slots.length >= this.options.workers) return undefined;
    const worker = new Worker(workerSource, { eval: true });
    const slot: Slot = { worker, running: null };
    worker.on("message", (answer: { key?: Uint8Array; error?: string }) => {
      const pending = slot.running;
      slot.running = null;
      if (answer.key !== undefined) pending?.resolve(answer.key);
      else pending?.reject(new Error(`scrypt failed: ${answer.error ?? "no reason given"}`));
      this.next(slot);
    });
    // A worker that died (out of memory, a bug) takes its job with it; the next job starts another.
    const lost = (reason: string): void => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return;
      this.slots.splice(at, 1);
      slot.running?.reject(new Error(`password check worker ${reason}`));
      slot.running = null;
      const waiting = this.queue.shift();
      if (waiting !== undefined) {
        const replacement = this.spawn();
        if (replacement !== undefined) this.start(replacement, waiting);
        else this.queue.unshift(waiting);
      }
    };
    worker.on("error", (error) => lost(`failed: ${error.message}`));
    worker.on("exit", (code) => lost(`exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private start(slot: Slot, pending: Pending): void {
    slot.running = pending;
    // Held while it computes, so the process does not exit under a caller awaiting the key.
    slot.worker.ref();
    slot.worker.postMessage(pending.job);
  }

  private next(slot: Slot): void {
    const waiting = this.queue.shift();
    if (waiting !== undefined && !this.closed) this.start(slot, waiting);
    else slot.worker.unref();
  }
}
