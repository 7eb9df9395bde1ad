/**
 * The persistence state machine: every service of a cluster applies the same committed
 * commands in log order and so holds the same stores, durables and dedup windows. Pure and
 * deterministic: time is the log time the commands carry, nothing here reads a clock, draws
 * a random number or does I/O.
 *
 * A command is already committed when it is applied, so bad input in it is never thrown
 * about: it gives the same `rejected` result on every service. Only broken invariants
 * (programmer errors, such as an index out of order) throw.
 */
import { assert } from "../../kernel/assert.js";
import { AckedDurable, KeyedDurable, type DurableState } from "./durable-state.js";
import { compileMatcher, describeMatcherErrors } from "./matcher.js";
import { matcherToWire } from "./matcher-wire.js";
import { listNames, stateLimits, type StateLimits } from "./state-limits.js";
import { SnapshotDecoder } from "./state-snapshot-decoder.js";
import { captureStores } from "./state-snapshot-encoder.js";
import type {
  ClusterStoresConfig,
  Command,
  CommandResult,
  DurableInfo,
  PersistenceState,
  PublishOutcome,
  Rejection,
  SlicedStep,
  StoreInfo,
  StoredMessage,
} from "./state-types.js";
import { newStores, StoreState } from "./store-state.js";

export interface PersistenceStateOptions {
  /** Tests shrink these; every service of a cluster must use the same values. */
  readonly limits?: StateLimits;
}

export function createPersistenceState(config: ClusterStoresConfig, options: PersistenceStateOptions = {}): PersistenceState {
  return new PersistenceStateMachine(config, options.limits ?? stateLimits);
}

type Ok<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rejection: Rejection };

class PersistenceStateMachine implements PersistenceState {
  appliedIndex = 0;
  logTimeMs = 0;
  private storesByName: Map<string, StoreState>;

  constructor(
    private readonly config: ClusterStoresConfig,
    private readonly limits: StateLimits,
  ) {
    this.storesByName = newStores(config, limits);
  }

  apply(index: number, command: Command): CommandResult {
    assert(index === this.appliedIndex + 1, `apply at index ${index} after ${this.appliedIndex}`);
    this.appliedIndex = index;
    // Leaders stamp atMs from their own clocks: never let log time go backwards.
    if (command.atMs > this.logTimeMs) this.logTimeMs = command.atMs;
    for (const store of this.storesByName.values()) {
      store.expire(this.logTimeMs);
      store.windows.expire(this.logTimeMs);
    }
    switch (command.type) {
      case "publish":
        return this.publish(command);
      case "ack":
        return this.ack(command);
      case "create-durable":
        return this.createDurable(command);
      case "dead-letter":
        return this.deadLetter(command);
      case "map-set":
        return this.mapSet(command);
      case "map-remove":
        return this.mapRemove(command);
      case "tick":
        return { type: "tick" };
    }
  }

  skip(index: number): void {
    assert(index === this.appliedIndex + 1, `skip at index ${index} after ${this.appliedIndex}`);
    this.appliedIndex = index;
  }

  snapshot(): Uint8Array {
    return captureStores(this.appliedIndex, this.logTimeMs, [...this.storesByName.values()]).finish();
  }

  restore(bytes: Uint8Array): void {
    const restoring = this.beginRestore(bytes);
    restoring.step(() => true);
  }

  captureSnapshot(): SlicedStep<Uint8Array> {
    return captureStores(this.appliedIndex, this.logTimeMs, [...this.storesByName.values()]);
  }

  beginRestore(bytes: Uint8Array): SlicedStep<true> {
    const decoder = new SnapshotDecoder(bytes, this.config, this.limits);
    return {
      get progressBytes() {
        return decoder.progressBytes;
      },
      step: (more) => {
        if (!decoder.step(more)) return null;
        const restored = decoder.result;
        this.appliedIndex = restored.appliedIndex;
        this.logTimeMs = restored.logTimeMs;
        this.storesByName = restored.stores;
        return true;
      },
    };
  }

  // --- commands ------------------------------------------------------------------------------

  private publish(command: Extract<Command, { type: "publish" }>): CommandResult {
    const found = this.findStore(command.store);
    if (!found.ok) return { type: "rejected", ...found.rejection };
    const store = found.value;
    if (command.items.length > this.limits.publishItemsPerCommandMax) {
      return { type: "rejected", reason: "invalid-message", detail: `a publish carries at most ${this.limits.publishItemsPerCommandMax} messages, got ${command.items.length}` };
    }
    const window = store.windows.touch(command.publisherId, this.logTimeMs);
    const outcomes: PublishOutcome[] = [];
    for (const item of command.items) {
      const sequence = item.sequence;
      if (!Number.isSafeInteger(sequence) || sequence < 1) {
        outcomes.push({ status: "rejected", reason: "invalid-message", detail: `a publisher sequence is a positive integer, got ${sequence}` });
        continue;
      }
      const remembered = window.outcome(sequence);
      if (remembered !== undefined) {
        outcomes.push("storeSequence" in remembered ? { status: "duplicate", storeSequence: remembered.storeSequence } : { status: "rejected", ...remembered });
      } else if (window.isBeforeWindow(sequence)) {
        outcomes.push({
          status: "rejected",
          reason: "duplicate-outside-window",
          detail: `publisher ${JSON.stringify(command.publisherId)} sequence ${sequence} is older than the last ${this.limits.dedupWindowSequencesMax} sequences this store remembers; it cannot be told from a retry, so it is not stored`,
        });
      } else {
        const outcome = store.storeMessage(item.message, this.logTimeMs);
        if (outcome.status === "stored") window.rememberStored(sequence, outcome.storeSequence);
        else window.rememberRejected(sequence, { reason: outcome.reason, detail: outcome.detail });
        outcomes.push(outcome);
      }
    }
    return { type: "publish", outcomes };
  }

  private ack(command: Extract<Command, { type: "ack" }>): CommandResult {
    const found = this.findDurable(command.store, command.durable);
    if (!found.ok) return { type: "rejected", ...found.rejection };
    const [store, durable] = found.value;
    if (durable.kind !== "acked") return wrongType(durable, "ack", "standard or shared");
    return { type: "ack", acked: store.ack(durable, command.sequences) };
  }

  private createDurable(command: Extract<Command, { type: "create-durable" }>): CommandResult {
    const found = this.findStore(command.store);
    if (!found.ok) return { type: "rejected", ...found.rejection };
    const store = found.value;
    if (store.durables.has(command.durable)) return { type: "create-durable", created: false };
    const template = store.templates.get(command.template);
    if (template === undefined) {
      return {
        type: "rejected",
        reason: "unknown-template",
        detail: `store ${JSON.stringify(store.name)} has no durable template ${JSON.stringify(command.template)}; its templates: ${listNames([...store.templates.keys()], this.limits.rejectionNamesListedMax)}`,
      };
    }
    const compiled = compileMatcher(command.matcher ?? {});
    if (!compiled.ok) {
      const detail = `the matcher for durable ${JSON.stringify(command.durable)} is invalid: ${describeMatcherErrors(compiled.errors)}`;
      return { type: "rejected", reason: "invalid-matcher", detail };
    }
    if (store.dynamicDurables >= store.dynamicDurablesMax) {
      return {
        type: "rejected",
        reason: "too-many-durables",
        detail: `store ${JSON.stringify(store.name)} already has ${store.dynamicDurables} dynamic durables, its maximum; reuse a durable name or raise dynamicDurablesMax`,
      };
    }
    const wire = command.matcher === undefined ? undefined : matcherToWire(compiled.matcher);
    const { name: _templateName, ...settings } = template;
    store.addDurable(command.durable, settings, compiled.matcher, { dynamic: true, template: template.name, matcher: wire });
    return { type: "create-durable", created: true };
  }

  private deadLetter(command: Extract<Command, { type: "dead-letter" }>): CommandResult {
    const found = this.findDurable(command.store, command.durable);
    if (!found.ok) return { type: "rejected", ...found.rejection };
    const [store, durable] = found.value;
    if (durable.kind !== "acked") return wrongType(durable, "dead-letter", "standard or shared");
    const targetName = durable.settings.deadLetterStore;
    const target = targetName === undefined ? undefined : this.storesByName.get(targetName);
    let moved = 0;
    let dropped = 0;
    for (const sequence of command.sequences) {
      if (!durable.pending.has(sequence)) continue;
      const entry = store.messages.get(sequence);
      assert(entry !== undefined, `store ${store.name}: pending sequence ${sequence} has no message`);
      // A dead-letter store takes the message like a publish: a new sequence there, its
      // durables' interest, its limits. If it refuses (full, too large), the message is dropped.
      const outcome = target?.storeMessage(entry.message, this.logTimeMs);
      if (outcome?.status === "stored" && outcome.retainedBy > 0) moved += 1;
      else dropped += 1;
      store.ack(durable, [sequence]);
    }
    return { type: "dead-letter", moved, dropped };
  }

  private mapSet(command: Extract<Command, { type: "map-set" }>): CommandResult {
    const found = this.findMap(command.store, command.durable, "map-set", command.key);
    if (!found.ok) return { type: "rejected", ...found.rejection };
    const [store, durable] = found.value;
    const outcome = store.setKey(durable, command.key, command.message, this.logTimeMs);
    if (outcome.status === "rejected") return { type: "rejected", reason: outcome.reason, detail: outcome.detail };
    return { type: "map-set", storeSequence: outcome.storeSequence };
  }

  private mapRemove(command: Extract<Command, { type: "map-remove" }>): CommandResult {
    const found = this.findMap(command.store, command.durable, "map-remove", command.key);
    if (!found.ok) return { type: "rejected", ...found.rejection };
    const [store, durable] = found.value;
    return { type: "map-remove", removed: store.removeKey(durable, command.key) };
  }

  // --- lookups that answer with a rejection ------------------------------------------------

  private findStore(name: string): Ok<StoreState> {
    const store = this.storesByName.get(name);
    if (store !== undefined) return { ok: true, value: store };
    const names = listNames([...this.storesByName.keys()], this.limits.rejectionNamesListedMax);
    return { ok: false, rejection: { reason: "unknown-store", detail: `this cluster has no store ${JSON.stringify(name)}; its stores: ${names}` } };
  }

  private findDurable(storeName: string, name: string): Ok<readonly [StoreState, DurableState]> {
    const found = this.findStore(storeName);
    if (!found.ok) return found;
    const durable = found.value.durables.get(name);
    if (durable !== undefined) return { ok: true, value: [found.value, durable] };
    const names = listNames([...found.value.durables.keys()], this.limits.rejectionNamesListedMax);
    return { ok: false, rejection: { reason: "unknown-durable", detail: `store ${JSON.stringify(storeName)} has no durable ${JSON.stringify(name)}; its durables: ${names}` } };
  }

  private findMap(storeName: string, name: string, operation: string, key: string): Ok<readonly [StoreState, KeyedDurable]> {
    const found = this.findDurable(storeName, name);
    if (!found.ok) return found;
    const [store, durable] = found.value;
    if (durable.kind !== "keyed" || durable.settings.type !== "map") return { ok: false, rejection: wrongTypeRejection(durable, operation, "map") };
    if (!store.isKey(key)) {
      // No reason of its own: the key is part of what the client sent, like the message.
      return { ok: false, rejection: { reason: "invalid-message", detail: `a map key has 1 to ${this.limits.mapKeyLengthMax} characters, got ${key.length}` } };
    }
    return { ok: true, value: [store, durable] };
  }

  // --- the view ------------------------------------------------------------------------------

  stores(): readonly StoreInfo[] {
    return [...this.storesByName.values()].map((store) => store.info());
  }

  store(name: string): StoreInfo | undefined {
    return this.storesByName.get(name)?.info();
  }

  durables(store: string): readonly DurableInfo[] {
    const found = this.storesByName.get(store);
    return found === undefined ? [] : [...found.durables.values()].map((durable) => durableInfo(store, durable));
  }

  durable(store: string, name: string): DurableInfo | undefined {
    const durable = this.storesByName.get(store)?.durables.get(name);
    return durable === undefined ? undefined : durableInfo(store, durable);
  }

  pendingAfter(store: string, durable: string, afterSequence: number, countMax: number): readonly number[] {
    const found = this.acked(store, durable);
    return found === undefined ? [] : found.pending.after(afterSequence, countMax);
  }

  isPending(store: string, durable: string, sequence: number): boolean {
    return this.acked(store, durable)?.pending.has(sequence) ?? false;
  }

  message(store: string, sequence: number): StoredMessage | undefined {
    return this.storesByName.get(store)?.messages.get(sequence);
  }

  entriesAfter(store: string, durable: string, afterKey: string, countMax: number): readonly (readonly [string, StoredMessage])[] {
    return this.keyed(store, durable)?.entriesAfter(afterKey, countMax) ?? [];
  }

  updatesAfter(store: string, durable: string, afterSequence: number, countMax: number): readonly (readonly [string, StoredMessage])[] {
    return this.keyed(store, durable)?.updatesAfter(afterSequence, countMax) ?? [];
  }

  entry(store: string, durable: string, key: string): StoredMessage | undefined {
    return this.keyed(store, durable)?.entries.get(key);
  }

  private acked(store: string, durable: string): AckedDurable | undefined {
    const found = this.storesByName.get(store)?.durables.get(durable);
    return found instanceof AckedDurable ? found : undefined;
  }

  private keyed(store: string, durable: string): KeyedDurable | undefined {
    const found = this.storesByName.get(store)?.durables.get(durable);
    return found instanceof KeyedDurable ? found : undefined;
  }
}

function wrongType(durable: DurableState, operation: string, expected: string): { type: "rejected" } & Rejection {
  return { type: "rejected", ...wrongTypeRejection(durable, operation, expected) };
}

function wrongTypeRejection(durable: DurableState, operation: string, expected: string): Rejection {
  return {
    reason: "wrong-durable-type",
    detail: `${operation} needs a ${expected} durable; ${JSON.stringify(durable.name)} is ${durable.settings.type}`,
  };
}

function durableInfo(store: string, durable: DurableState): DurableInfo {
  return { store, name: durable.name, dynamic: durable.origin.dynamic, settings: durable.settings, backlog: durable.backlog };
}
