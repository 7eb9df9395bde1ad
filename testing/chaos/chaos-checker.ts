import type { Operation } from "./chaos-history.js";

/**
 * The chaos history's checks, pure (checked on hand-made histories in chaos-checker.test.ts):
 *
 * - lost: a confirmed publish (ok) was never delivered to some standard or shared durable of
 *   its store (run after healing and draining, so everything should have arrived);
 * - duplicated: a message at two store sequences, or two messages at one sequence;
 * - order: a publisher's messages are stored in its publish order; a standard durable's first
 *   deliveries come in store-sequence order;
 * - acked-redelivered: a delivery after the ack of that message to that durable was confirmed
 *   (on the same connection, or more than `crossConnectionSlackMs` later on another one: a
 *   shared durable may hand a message to a second subscriber before the first one's ack
 *   commits, and the two connections' messages race);
 * - failed-delivered: a delivery of a publish that definitely failed (`fail`, not `info`);
 * - invented: a delivery of a message never published;
 * - store-contents: the store's last sequence is the last one seen, and each standard durable
 *   got every sequence up to it (the store holds nothing the clients did not see).
 */
export type Check =
  | "lost"
  | "duplicated"
  | "order"
  | "acked-redelivered"
  | "failed-delivered"
  | "invented"
  | "store-contents"
  // The harness's own checks (run-chaos.ts, run-backlog.ts):
  | "converged"
  | "recovered"
  | "drained"
  | "one-leader-per-term"
  | "served-again"
  | "deployed";

export interface Violation {
  readonly check: Check;
  readonly detail: string;
}

export interface DurableDescription {
  readonly store: string;
  readonly durable: string;
  readonly type: "standard" | "shared";
}

export interface FinalStore {
  readonly store: string;
  readonly lastSequence: number;
}

export interface CheckResult {
  readonly violations: readonly Violation[];
  /** Violations found; `violations` keeps the first `detailsMax` of them. */
  readonly violationCount: number;
  /** Distinct confirmed messages missing from some durable. */
  readonly lost: number;
  /** Distinct messages stored more than once (or sharing a sequence with another). */
  readonly duplicated: number;
}

/** Slack for a delivery on another connection racing an ack's confirm (see acked-redelivered). */
export const crossConnectionSlackMs = 1000;
const detailsMax = 100;

type Publish = Extract<Operation, { f: "publish" }>;
type Delivery = Extract<Operation, { f: "deliver" }>;
type Ack = Extract<Operation, { f: "ack" }>;

export function checkChaosHistory(operations: readonly Operation[], durables: readonly DurableDescription[], finalStores: readonly FinalStore[] | null): CheckResult {
  const violations: Violation[] = [];
  let violationCount = 0;
  const note = (check: Check, detail: string): void => {
    violationCount += 1;
    if (violations.length < detailsMax) violations.push({ check, detail });
  };
  const publishes = operations.filter((operation): operation is Publish => operation.f === "publish");
  const deliveries = operations.filter((operation): operation is Delivery => operation.f === "deliver");
  const acks = operations.filter((operation): operation is Ack => operation.f === "ack" && operation.type === "ok");

  const invoked = new Map(publishes.filter((p) => p.type === "invoke").map((p) => [p.messageId, p]));
  const outcome = new Map(publishes.filter((p) => p.type !== "invoke").map((p) => [p.messageId, p]));

  // duplicated: message <-> store sequence, one to one, per store.
  const sequencesOf = new Map<string, Set<number>>();
  const messagesAt = new Map<string, Set<string>>();
  const link = (store: string, messageId: string, sequence: number): void => {
    const sequences = sequencesOf.get(messageId) ?? new Set<number>();
    sequences.add(sequence);
    sequencesOf.set(messageId, sequences);
    const key = `${store}#${sequence}`;
    const messages = messagesAt.get(key) ?? new Set<string>();
    messages.add(messageId);
    messagesAt.set(key, messages);
  };
  for (const publish of publishes) if (publish.type === "ok" && publish.storeSequence !== undefined) link(publish.store, publish.messageId, publish.storeSequence);
  for (const delivery of deliveries) link(delivery.store, delivery.messageId, delivery.storeSequence);
  const duplicatedMessages = new Set<string>();
  for (const [messageId, sequences] of sequencesOf) {
    if (sequences.size <= 1) continue;
    duplicatedMessages.add(messageId);
    note("duplicated", `${messageId} stored at sequences ${[...sequences].sort((a, b) => a - b).join(", ")}`);
  }
  for (const [key, messages] of messagesAt) {
    if (messages.size <= 1) continue;
    for (const messageId of messages) duplicatedMessages.add(messageId);
    note("duplicated", `sequence ${key} holds ${[...messages].join(" and ")}`);
  }

  // invented, failed-delivered.
  for (const delivery of deliveries) {
    if (!invoked.has(delivery.messageId)) note("invented", `${delivery.durable} got ${delivery.messageId} (sequence ${delivery.storeSequence}), never published`);
    else if (outcome.get(delivery.messageId)?.type === "fail") note("failed-delivered", `${delivery.durable} got ${delivery.messageId}, whose publish failed: ${outcome.get(delivery.messageId)?.detail ?? ""}`);
  }

  // lost: every confirmed publish reaches every acked durable of its store.
  const deliveredTo = new Set(deliveries.map((delivery) => `${delivery.durable}/${delivery.messageId}`));
  const lostMessages = new Set<string>();
  for (const publish of publishes) {
    if (publish.type !== "ok") continue;
    for (const durable of durables.filter((candidate) => candidate.store === publish.store)) {
      if (deliveredTo.has(`${durable.durable}/${publish.messageId}`)) continue;
      lostMessages.add(publish.messageId);
      note("lost", `${publish.messageId} confirmed at ${publish.store} sequence ${publish.storeSequence ?? "?"} (t=${publish.timeMs} ms) never delivered to ${durable.durable}`);
    }
  }

  // order: per publisher, store sequences follow publish numbers.
  const byPublisher = new Map<string, Map<number, number>>();
  const numberOf = new Map(publishes.filter((p) => p.type === "invoke").map((p) => [p.messageId, { process: p.process, number: p.number }]));
  for (const [messageId, sequences] of sequencesOf) {
    const origin = numberOf.get(messageId);
    if (!origin || sequences.size !== 1) continue;
    const numbers = byPublisher.get(origin.process) ?? new Map<number, number>();
    numbers.set(origin.number, [...sequences][0] as number);
    byPublisher.set(origin.process, numbers);
  }
  for (const [publisher, numbers] of byPublisher) {
    const sorted = [...numbers.entries()].sort((a, b) => a[0] - b[0]);
    for (let at = 1; at < sorted.length; at++) {
      const [previousNumber, previousSequence] = sorted[at - 1] as [number, number];
      const [number, sequence] = sorted[at] as [number, number];
      if (sequence < previousSequence) note("order", `${publisher}:${number} stored at ${sequence}, before ${publisher}:${previousNumber} at ${previousSequence}`);
    }
  }
  for (const durable of durables.filter((candidate) => candidate.type === "standard")) {
    const seen = new Set<string>();
    let previous: Delivery | null = null;
    for (const delivery of deliveries) {
      if (delivery.durable !== durable.durable || seen.has(delivery.messageId)) continue;
      seen.add(delivery.messageId);
      if (previous && delivery.storeSequence < previous.storeSequence) note("order", `${durable.durable}: ${delivery.messageId} (sequence ${delivery.storeSequence}) first delivered after ${previous.messageId} (sequence ${previous.storeSequence})`);
      previous = delivery;
    }
  }

  // acked-redelivered.
  const position = new Map<Operation, number>(operations.map((operation, at) => [operation, at]));
  const firstAck = new Map<string, Ack>();
  for (const ack of acks) if (!firstAck.has(`${ack.durable}/${ack.messageId}`)) firstAck.set(`${ack.durable}/${ack.messageId}`, ack);
  for (const delivery of deliveries) {
    const ack = firstAck.get(`${delivery.durable}/${delivery.messageId}`);
    if (!ack || delivery.timeMs < ack.timeMs) continue; // (timeMs is whole ms: ties go on to the order below)
    const sameConnection = ack.process === delivery.process;
    if (!sameConnection && delivery.timeMs - ack.timeMs <= crossConnectionSlackMs) continue;
    // On the same connection order is the stream's order: the ack operation precedes this delivery in the history.
    if (sameConnection && (position.get(delivery) ?? 0) < (position.get(ack) ?? 0)) continue;
    note("acked-redelivered", `${delivery.durable}: ${delivery.messageId} delivered to ${delivery.process} (count ${delivery.deliveryCount}, t=${delivery.timeMs} ms) after its ack was confirmed to ${ack.process} at t=${ack.timeMs} ms`);
  }

  // store-contents.
  for (const final of finalStores ?? []) {
    const seenSequences = new Set(deliveries.filter((delivery) => delivery.store === final.store).map((delivery) => delivery.storeSequence));
    const highest = Math.max(0, ...seenSequences);
    if (highest !== final.lastSequence) note("store-contents", `${final.store}: last sequence ${final.lastSequence}, highest delivered ${highest}`);
    for (const durable of durables.filter((candidate) => candidate.store === final.store && candidate.type === "standard")) {
      const got = new Set(deliveries.filter((delivery) => delivery.durable === durable.durable).map((delivery) => delivery.storeSequence));
      const missing: number[] = [];
      for (let sequence = 1; sequence <= final.lastSequence; sequence++) if (!got.has(sequence)) missing.push(sequence);
      if (missing.length > 0) note("store-contents", `${durable.durable}: ${missing.length} of ${final.lastSequence} sequences never delivered (first: ${missing.slice(0, 10).join(", ")})`);
    }
  }

  return { violations, violationCount, lost: lostMessages.size, duplicated: duplicatedMessages.size };
}
