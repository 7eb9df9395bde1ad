/**
 * What the side-by-side workloads need from a system under test. Holdfast and NATS JetStream
 * each implement it (holdfast-target.ts, nats-target.ts); the workloads (workloads.ts) are
 * written once against it, so both systems run exactly the same client-side loop.
 */

/** A store (Holdfast) or stream (NATS) of its own per workload, so counts never mix. */
export type StreamName = "warm" | "bulk" | "single" | "failover";

export type SystemName = "holdfast" | "nats";

/** Publishes message `id` (128 bytes) and resolves once acknowledged, with what the ack promises. */
export type PublishOne = (id: number) => Promise<string>;

export interface Target {
  readonly system: SystemName;
  /** A confirm-mode publisher with at most `window` messages outstanding. */
  publisher(stream: StreamName, window: number): PublishOne;
  /**
   * Read `count` messages through a durable consumer, acking each (asynchronously, up to 256
   * unacked); resolves with how many arrived before `timeoutMs`.
   */
  consume(stream: StreamName, count: number, timeoutMs: number): Promise<number>;
  /** OS process id of each server process we started, by server name. */
  serverPids(): ReadonlyMap<string, number>;
  /** The server whose process leads `stream` now. */
  leader(stream: StreamName): Promise<string>;
  /** kill -9 one of our server processes, then start it again on the same data. */
  kill(server: string): Promise<void>;
  restart(server: string): Promise<void>;
  /** After recovery: the id of every message the stream holds, read from its start. */
  readBack(stream: StreamName, timeoutMs: number): Promise<number[]>;
  stop(): Promise<void>;
}
