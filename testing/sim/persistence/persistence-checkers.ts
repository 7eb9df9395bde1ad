/**
 * The invariants of the persistence state machine under consensus, as pure functions over the
 * history (persistence-history.ts) and the members' final states. Each returns its violations
 * (empty: it holds), so a unit test can feed it a hand-made history.
 */
import type { EventOf, HistoryEvent } from "./persistence-history.js";

export interface PersistenceViolation {
  readonly checker: string;
  readonly timeMs: number;
  readonly detail: string;
}

/** One member at the end of a run. */
export interface FinalMember {
  readonly id: string;
  readonly appliedIndex: number;
  readonly snapshot: Uint8Array;
  /** Key to message id, for the last-value and map durables. */
  readonly lastValue: ReadonlyMap<string, string>;
  readonly map: ReadonlyMap<string, string>;
}

/** How many violations one checker reports at most (the first ones matter). */
const perCheckerMax = 5;

function collector(checker: string): { violations: PersistenceViolation[]; fail: (timeMs: number, detail: string) => void } {
  const violations: PersistenceViolation[] = [];
  return { violations, fail: (timeMs, detail) => { if (violations.length < perCheckerMax) violations.push({ checker, timeMs, detail }); } };
}

function ofKind<K extends HistoryEvent["kind"]>(events: readonly HistoryEvent[], kind: K): EventOf<K>[] {
  return events.filter((event): event is EventOf<K> => event.kind === kind);
}

/** Every confirmed publish was delivered to the standard durable at least once (run after draining). */
export function checkConfirmedDelivered(events: readonly HistoryEvent[], durable = "std"): PersistenceViolation[] {
  const { violations, fail } = collector("confirmed-delivered");
  const delivered = new Set(ofKind(events, "delivery").filter((event) => event.durable === durable).map((event) => event.messageId));
  for (const ok of ofKind(events, "publish-ok")) {
    const messageId = `${ok.publisher}.${ok.sequence}`;
    if (!delivered.has(messageId)) fail(ok.timeMs, `${messageId} was confirmed (store sequence ${ok.storeSequence}, index ${ok.index}) and never delivered to ${durable}`);
  }
  return violations;
}

/** Once an ack (or dead-letter) of a message is confirmed, no engine delivers it to that durable again. */
export function checkNoDeliveryAfterAck(events: readonly HistoryEvent[]): PersistenceViolation[] {
  const { violations, fail } = collector("no-delivery-after-ack");
  const confirmed = new Map<string, EventOf<"ack-ok">>();
  for (const event of events) {
    if (event.kind === "ack-ok") {
      for (const sequence of event.sequences) if (!confirmed.has(`${event.durable}/${sequence}`)) confirmed.set(`${event.durable}/${sequence}`, event);
    } else if (event.kind === "delivery") {
      const ack = confirmed.get(`${event.durable}/${event.storeSequence}`);
      if (ack !== undefined) {
        fail(event.timeMs,
          `${event.durable} ${event.storeSequence} (${event.messageId}) delivered by engine ${event.engine} to ${event.subscriberId} (count ${event.deliveryCount}) ` +
          `after its ${ack.deadLetter ? "dead-letter" : "ack"} was confirmed at index ${ack.index} by engine ${ack.engine} at ${ack.timeMs}ms`);
      }
    }
  }
  return violations;
}

/**
 * Order per store: a publisher's confirmed items have store sequences in its own order, and
 * the first delivery of each message to the standard durable comes in store-sequence order.
 */
export function checkOrder(events: readonly HistoryEvent[], durable = "std"): PersistenceViolation[] {
  const { violations, fail } = collector("order");
  const byPublisher = new Map<string, Map<number, EventOf<"publish-ok">>>();
  for (const ok of ofKind(events, "publish-ok")) {
    const items = byPublisher.get(ok.publisher) ?? new Map<number, EventOf<"publish-ok">>();
    byPublisher.set(ok.publisher, items);
    if (!items.has(ok.sequence)) items.set(ok.sequence, ok);
  }
  for (const [publisher, items] of byPublisher) {
    let previous: EventOf<"publish-ok"> | null = null;
    for (const ok of [...items.values()].sort((a, b) => a.sequence - b.sequence)) {
      if (previous !== null && ok.storeSequence <= previous.storeSequence) {
        fail(ok.timeMs, `publisher ${publisher}: sequence ${ok.sequence} stored at ${ok.storeSequence}, not after sequence ${previous.sequence} at ${previous.storeSequence}`);
      }
      previous = ok;
    }
  }
  const seen = new Set<number>();
  let lastFirst: EventOf<"delivery"> | null = null;
  for (const delivery of ofKind(events, "delivery")) {
    if (delivery.durable !== durable || seen.has(delivery.storeSequence)) continue;
    seen.add(delivery.storeSequence);
    if (lastFirst !== null && delivery.storeSequence < lastFirst.storeSequence) {
      fail(delivery.timeMs, `${durable}: first delivery of ${delivery.storeSequence} (engine ${delivery.engine}) comes after the first delivery of ${lastFirst.storeSequence} (engine ${lastFirst.engine})`);
    }
    lastFirst = delivery;
  }
  return violations;
}

/**
 * A message of an acked durable is in flight to one subscriber at a time: an engine never hands
 * it out while a subscription it gave it to is still attached there, has not had it acked and
 * its ack wait has not passed. (A new engine, a detach or an expired ack wait is redelivery.)
 */
export function checkInFlightExclusive(events: readonly HistoryEvent[], ackWaitMsByDurable: Readonly<Record<string, number>>): PersistenceViolation[] {
  const { violations, fail } = collector("in-flight-exclusive");
  interface Holder { readonly subscriberId: string; readonly atMs: number }
  const holders = new Map<string, Holder>();
  const attached = new Set<string>();
  const stopped = new Set<string>();
  for (const event of events) {
    switch (event.kind) {
      case "attach":
        attached.add(`${event.engine}/${event.subscriberId}`);
        break;
      case "detach":
        attached.delete(`${event.engine}/${event.subscriberId}`);
        break;
      case "engine-stop":
        stopped.add(event.engine);
        break;
      case "ack-ok":
        for (const sequence of event.sequences) holders.delete(`${event.engine}/${event.durable}/${sequence}`);
        break;
      case "delivery": {
        const ackWaitMs = ackWaitMsByDurable[event.durable];
        if (ackWaitMs === undefined) break;
        const key = `${event.engine}/${event.durable}/${event.storeSequence}`;
        const holder = holders.get(key);
        if (holder !== undefined && !stopped.has(event.engine) && attached.has(`${event.engine}/${holder.subscriberId}`) && event.timeMs < holder.atMs + ackWaitMs) {
          fail(event.timeMs,
            `${event.durable} ${event.storeSequence}: engine ${event.engine} delivers it to ${event.subscriberId} (count ${event.deliveryCount}) while ` +
            `${holder.subscriberId} holds it since ${holder.atMs}ms (ack wait ${ackWaitMs}ms, still attached, not acked)`);
        }
        holders.set(key, { subscriberId: event.subscriberId, atMs: event.timeMs });
        break;
      }
      default:
        break;
    }
  }
  return violations;
}

/** Nothing stored twice: one store sequence per (publisher, sequence), one message per store sequence. */
export function checkStoredOnce(events: readonly HistoryEvent[]): PersistenceViolation[] {
  const { violations, fail } = collector("stored-once");
  const sequenceOf = new Map<string, number>();
  const messageAt = new Map<number, string>();
  const see = (messageId: string, storeSequence: number, timeMs: number, where: string): void => {
    const known = sequenceOf.get(messageId);
    if (known !== undefined && known !== storeSequence) fail(timeMs, `${messageId} is stored at ${known} and at ${storeSequence} (${where})`);
    else sequenceOf.set(messageId, storeSequence);
    const other = messageAt.get(storeSequence);
    if (other !== undefined && other !== messageId) fail(timeMs, `store sequence ${storeSequence} holds ${other} and ${messageId} (${where})`);
    else messageAt.set(storeSequence, messageId);
  };
  for (const event of events) {
    if (event.kind === "publish-ok") see(`${event.publisher}.${event.sequence}`, event.storeSequence, event.timeMs, `publish answer at index ${event.index}`);
    else if (event.kind === "delivery") see(event.messageId, event.storeSequence, event.timeMs, `delivery to ${event.durable} by ${event.engine}`);
  }
  return violations;
}

/**
 * The last-value and map durables equal a model built from the confirmed operations: for a
 * published key, the message with the highest store sequence; for a map client's key, its
 * last confirmed set (or nothing after a remove). Checked on every member. A key whose newest
 * confirmed item may have been lost (`mayBeLost`, memory ack points) may hold that item or
 * what the model says without it.
 */
export function checkKeyedModel(events: readonly HistoryEvent[], members: readonly FinalMember[], mayBeLost: ReadonlySet<string> = new Set()): PersistenceViolation[] {
  const { violations, fail } = collector("keyed-model");
  const keyOf = new Map<string, string>();
  for (const invoke of ofKind(events, "publish-invoke")) keyOf.set(invoke.messageId, invoke.key);
  const newest = new Map<string, { storeSequence: number; messageId: string }>();
  const uncertain: { key: string; storeSequence: number; messageId: string }[] = [];
  for (const ok of ofKind(events, "publish-ok")) {
    const messageId = `${ok.publisher}.${ok.sequence}`;
    const key = keyOf.get(messageId);
    if (key === undefined) continue;
    if (mayBeLost.has(messageId)) {
      uncertain.push({ key, storeSequence: ok.storeSequence, messageId });
      continue;
    }
    const current = newest.get(key);
    if (current === undefined || ok.storeSequence > current.storeSequence) newest.set(key, { storeSequence: ok.storeSequence, messageId });
  }
  const lastValue = new Map<string, string>([...newest].map(([key, { messageId }]) => [key, messageId]));
  const map = new Map(lastValue);
  const mapKeys = new Set<string>();
  const invokes = new Map(ofKind(events, "map-invoke").map((invoke) => [invoke.operation, invoke]));
  for (const ok of ofKind(events, "map-ok").sort((a, b) => a.operation - b.operation)) {
    const invoke = invokes.get(ok.operation);
    if (invoke === undefined) continue;
    mapKeys.add(invoke.key);
    if (invoke.messageId === null) map.delete(invoke.key);
    else map.set(invoke.key, invoke.messageId);
  }
  // Per key, what else it may hold: an uncertain item newer than the model's (it survived).
  const alsoAllowed = new Map<string, Set<string>>();
  for (const item of uncertain) {
    if (item.storeSequence <= (newest.get(item.key)?.storeSequence ?? 0)) continue;
    const allowed = alsoAllowed.get(item.key) ?? new Set<string>();
    allowed.add(item.messageId);
    alsoAllowed.set(item.key, allowed);
  }
  const endMs = events.at(-1)?.timeMs ?? 0;
  for (const member of members) {
    const lastValueDifference = difference(lastValue, member.lastValue, alsoAllowed);
    if (lastValueDifference !== null) fail(endMs, `${member.id} last-value durable lv: ${lastValueDifference}`);
    const mapAllowed = new Map([...alsoAllowed].filter(([key]) => !mapKeys.has(key)));
    const mapDifference = difference(map, member.map, mapAllowed);
    if (mapDifference !== null) fail(endMs, `${member.id} map durable map: ${mapDifference}`);
  }
  return violations;
}

/** Every member ends at the same applied index with the same state, byte for byte. */
export function checkMembersEqual(members: readonly FinalMember[], endMs: number): PersistenceViolation[] {
  const { violations, fail } = collector("members-equal");
  const first = members[0];
  if (first === undefined) return violations;
  for (const member of members.slice(1)) {
    if (member.appliedIndex !== first.appliedIndex) fail(endMs, `${member.id} applied ${member.appliedIndex}, ${first.id} ${first.appliedIndex}`);
    else if (!bytesEqual(member.snapshot, first.snapshot)) fail(endMs, `${member.id} and ${first.id} differ at applied index ${first.appliedIndex} (${member.snapshot.length} and ${first.snapshot.length} snapshot bytes)`);
  }
  return violations;
}

/** A last-value subscription receives each key's values in store-sequence order, each at most once. */
export function checkLastValueOrder(events: readonly HistoryEvent[], durable = "lv"): PersistenceViolation[] {
  const { violations, fail } = collector("last-value-order");
  const last = new Map<string, number>();
  for (const delivery of ofKind(events, "delivery")) {
    if (delivery.durable !== durable || delivery.key === undefined) continue;
    const key = `${delivery.engine}/${delivery.subscriberId}/${delivery.key}`;
    const previous = last.get(key);
    if (previous !== undefined && delivery.storeSequence <= previous) {
      fail(delivery.timeMs, `${delivery.subscriberId} (engine ${delivery.engine}) got key ${delivery.key} at ${delivery.storeSequence} after ${previous}`);
    }
    last.set(key, delivery.storeSequence);
  }
  return violations;
}

/** Every history checker, in the order a report lists them. */
/**
 * Memory ack points promise less, and the checkers must hold them to exactly that. An item
 * confirmed at `quorum-memory` may be lost only if a member crashed after it was sent (a quorum
 * held it in memory; an election needs one of them, so only a crash can take it away); one
 * confirmed at `leader-memory` also when leadership changed after it was sent. Such items, and
 * deliveries of them, are left out of the checks; every other item is checked in full.
 */
export function mayBeLostIds(events: readonly HistoryEvent[]): ReadonlySet<string> {
  let lastCrashMs = Number.NEGATIVE_INFINITY;
  let lastLeaderChangeMs = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    if (event.kind === "crash") lastCrashMs = event.timeMs;
    if (event.kind === "crash" || event.kind === "engine-stop") lastLeaderChangeMs = event.timeMs;
  }
  const firstInvokeMs = new Map<string, number>();
  for (const invoke of ofKind(events, "publish-invoke")) if (!firstInvokeMs.has(invoke.messageId)) firstInvokeMs.set(invoke.messageId, invoke.timeMs);
  const mayBeLost = new Set<string>();
  for (const ok of ofKind(events, "publish-ok")) {
    const messageId = `${ok.publisher}.${ok.sequence}`;
    const sentMs = firstInvokeMs.get(messageId) ?? 0;
    if ((ok.ackPoint === "quorum-memory" && lastCrashMs >= sentMs) || (ok.ackPoint === "leader-memory" && lastLeaderChangeMs >= sentMs)) mayBeLost.add(messageId);
  }
  return mayBeLost;
}

function without(events: readonly HistoryEvent[], mayBeLost: ReadonlySet<string>): readonly HistoryEvent[] {
  if (mayBeLost.size === 0) return events;
  return events.filter((event) =>
    !(event.kind === "publish-ok" && mayBeLost.has(`${event.publisher}.${event.sequence}`)) && !(event.kind === "delivery" && mayBeLost.has(event.messageId)));
}

export function checkHistory(all: readonly HistoryEvent[], ackWaitMsByDurable: Readonly<Record<string, number>>): PersistenceViolation[] {
  const events = without(all, mayBeLostIds(all));
  return [
    ...checkStoredOnce(events),
    ...checkOrder(events),
    ...checkNoDeliveryAfterAck(events),
    ...checkInFlightExclusive(events, ackWaitMsByDurable),
    ...checkLastValueOrder(events),
  ];
}

/** After healing and draining: delivery of every confirmed publish, the keyed model, equal members. */
export function checkFinal(all: readonly HistoryEvent[], members: readonly FinalMember[], endMs: number): PersistenceViolation[] {
  const mayBeLost = mayBeLostIds(all);
  const events = without(all, mayBeLost);
  return [...checkConfirmedDelivered(events), ...checkKeyedModel(all, members, mayBeLost), ...checkMembersEqual(members, endMs)];
}

function difference(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>, alsoAllowed: ReadonlyMap<string, ReadonlySet<string>> = new Map()): string | null {
  const lines: string[] = [];
  for (const key of [...new Set([...expected.keys(), ...actual.keys()])].sort()) {
    const want = expected.get(key);
    const got = actual.get(key);
    if (want !== got && !(got !== undefined && alsoAllowed.get(key)?.has(got))) lines.push(`${key}: expected ${want ?? "absent"}, found ${got ?? "absent"}`);
  }
  return lines.length === 0 ? null : lines.join(", ");
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
