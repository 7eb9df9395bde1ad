/**
 * Builders for the persistence state tests: configurations, messages and commands in a line.
 */
import { encodeMessage } from "./message-codec.js";
import { message, type PlainValue } from "./message.js";
import { createPersistenceState } from "./persistence-state.js";
import { stateLimits, type StateLimits } from "./state-limits.js";
import type { ClusterStoresConfig, Command, CommandResult, DurableConfig, DurableTemplateConfig, PersistenceState, PublishOutcome, StoreConfig } from "./state-types.js";

export function storeConfig(name: string, overrides: Partial<StoreConfig> = {}): StoreConfig {
  return { name, limits: {}, full: "reject-new", publisherMode: "confirm", ackPoint: "quorum-fsync", durables: [], templates: [], ...overrides };
}

export function standard(name: string, extra: Partial<DurableConfig> = {}): DurableConfig {
  return { name, type: "standard", ...extra };
}

export function template(name: string, extra: Partial<DurableTemplateConfig> = {}): DurableTemplateConfig {
  return { name, type: "standard", ...extra };
}

export function bytesOf(fields: Readonly<Record<string, PlainValue>>): Uint8Array {
  return encodeMessage(message(fields));
}

export const testLimits: StateLimits = { ...stateLimits, dedupWindowSequencesMax: 8, dedupPublishersMax: 4, dedupPublisherIdleMs: 1000 };

/** A state with a log-index counter, so tests read as a list of commands. */
export class Harness {
  readonly state: PersistenceState;
  private index = 0;
  atMs = 0;

  constructor(stores: readonly StoreConfig[] | ClusterStoresConfig, limits: StateLimits = testLimits) {
    const config = Array.isArray(stores) ? { stores } : (stores as ClusterStoresConfig);
    this.state = createPersistenceState(config, { limits });
  }

  apply(command: Command): CommandResult {
    this.index += 1;
    return this.state.apply(this.index, command);
  }

  publish(store: string, publisherId: string, items: readonly (readonly [number, Uint8Array])[]): readonly PublishOutcome[] {
    const result = this.apply({ type: "publish", atMs: this.atMs, store, publisherId, items: items.map(([sequence, bytes]) => ({ sequence, message: bytes })) });
    if (result.type !== "publish") throw new Error(`publish answered ${JSON.stringify(result)}`);
    return result.outcomes;
  }

  /** One message; its outcome. */
  publishOne(store: string, publisherId: string, sequence: number, bytes: Uint8Array): PublishOutcome {
    return this.publish(store, publisherId, [[sequence, bytes]])[0] as PublishOutcome;
  }

  ack(store: string, durable: string, sequences: readonly number[]): CommandResult {
    return this.apply({ type: "ack", atMs: this.atMs, store, durable, sequences });
  }

  tick(atMs: number): void {
    this.atMs = atMs;
    this.apply({ type: "tick", atMs });
  }
}
