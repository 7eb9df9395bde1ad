/**
 * A history of confirm-mode publishes and standard-durable deliveries against a real cluster,
 * and a pure checker of it (Jepsen style: record what clients saw, check it against a model).
 * Publishes are numbered by one publisher in order, so the store must hold them in that order.
 */
export interface PublishRecord {
  readonly id: number;
  outcome: "pending" | "ok" | "fail";
  storeSequence: number | null;
  detail: string;
}

export interface DeliveryRecord {
  readonly id: number;
  readonly storeSequence: number;
  readonly deliveryCount: number;
}

export interface PersistenceViolation {
  readonly check: "confirmed-delivered" | "stored-once" | "order" | "acked-redelivered" | "invented";
  readonly detail: string;
}

export class PersistenceHistory {
  readonly publishes: PublishRecord[] = [];
  readonly deliveries: DeliveryRecord[] = [];
  /** Ids whose sync ack the cluster confirmed, with the delivery count then. */
  readonly acked = new Map<number, number>();
  /** Deliveries of an id after its ack was confirmed (must never happen). */
  readonly redeliveredAfterAck: DeliveryRecord[] = [];

  invoke(id: number): PublishRecord {
    const record: PublishRecord = { id, outcome: "pending", storeSequence: null, detail: "" };
    this.publishes.push(record);
    return record;
  }

  delivered(record: DeliveryRecord): void {
    if (this.acked.has(record.id)) this.redeliveredAfterAck.push(record);
    this.deliveries.push(record);
  }

  ackConfirmed(id: number): void {
    this.acked.set(id, (this.acked.get(id) ?? 0) + 1);
  }
}

/**
 * - confirmed-delivered: every confirmed publish was delivered;
 * - stored-once: one store sequence per id (a retry is a duplicate, not a second message), and
 *   one id per store sequence;
 * - order: first deliveries come in store-sequence order, and store sequences follow publish ids;
 * - acked-redelivered: nothing is delivered after its ack was confirmed;
 * - invented: nothing is delivered that was never published.
 */
export function checkPersistenceHistory(history: PersistenceHistory): PersistenceViolation[] {
  const violations: PersistenceViolation[] = [];
  const published = new Map(history.publishes.map((record) => [record.id, record]));
  const sequenceOfId = new Map<number, number>();
  const idOfSequence = new Map<number, number>();
  const note = (check: PersistenceViolation["check"], detail: string): void => {
    if (violations.length < 50) violations.push({ check, detail });
  };
  for (const record of history.publishes) {
    if (record.outcome === "ok" && record.storeSequence !== null) sequenceOfId.set(record.id, record.storeSequence);
  }
  const firstDeliveries: DeliveryRecord[] = [];
  const seen = new Set<number>();
  for (const delivery of history.deliveries) {
    if (!published.has(delivery.id)) note("invented", `id ${delivery.id} delivered but never published`);
    const known = sequenceOfId.get(delivery.id);
    if (known !== undefined && known !== delivery.storeSequence) note("stored-once", `id ${delivery.id} confirmed at sequence ${known} but delivered at ${delivery.storeSequence}`);
    sequenceOfId.set(delivery.id, delivery.storeSequence);
    const other = idOfSequence.get(delivery.storeSequence);
    if (other !== undefined && other !== delivery.id) note("stored-once", `sequence ${delivery.storeSequence} delivered as id ${other} and id ${delivery.id}`);
    idOfSequence.set(delivery.storeSequence, delivery.id);
    if (!seen.has(delivery.id)) {
      seen.add(delivery.id);
      firstDeliveries.push(delivery);
    }
  }
  for (const record of history.publishes) {
    if (record.outcome === "ok" && !seen.has(record.id)) note("confirmed-delivered", `id ${record.id} confirmed at sequence ${record.storeSequence} never delivered`);
  }
  for (let at = 1; at < firstDeliveries.length; at++) {
    const previous = firstDeliveries[at - 1] as DeliveryRecord;
    const current = firstDeliveries[at] as DeliveryRecord;
    if (current.storeSequence < previous.storeSequence) note("order", `id ${current.id} (sequence ${current.storeSequence}) first delivered after id ${previous.id} (sequence ${previous.storeSequence})`);
  }
  const bySequence = [...sequenceOfId.entries()].sort((a, b) => a[1] - b[1]);
  for (let at = 1; at < bySequence.length; at++) {
    const [previousId, previousSequence] = bySequence[at - 1] as [number, number];
    const [id, sequence] = bySequence[at] as [number, number];
    if (id < previousId) note("order", `id ${id} stored at ${sequence}, after id ${previousId} at ${previousSequence}: publish order not kept`);
  }
  for (const delivery of history.redeliveredAfterAck) note("acked-redelivered", `id ${delivery.id} delivered again (count ${delivery.deliveryCount}) after its ack was confirmed`);
  return violations;
}
