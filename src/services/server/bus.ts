import { InterestTable, validatePublishSubject } from "../../protocols/bus/interest-table.js";
import type { Session } from "./session.js";

/**
 * The bus of one server: subjects with wildcards, at-most-once, no persistence. Request/reply
 * is publish with a reply subject (the requester's inbox). Messages reach the sessions
 * connected to this server; routing between servers comes with the site router.
 */
export class Bus {
  private readonly table = new InterestTable<Session>();

  /** Null when subscribed, else what is wrong with the pattern. */
  subscribe(session: Session, subscriptionId: number, pattern: string): string | null {
    const added = this.table.add(pattern, session, key(session, subscriptionId));
    return added.ok ? null : added.detail;
  }

  unsubscribe(session: Session, subscriptionId: number): void {
    this.table.remove(key(session, subscriptionId));
  }

  unsubscribeAll(session: Session): void {
    this.table.removeAll(session);
  }

  /** Null when published (to zero or more subscribers), else what is wrong with the subject. */
  publish(subject: string, replyTo: string | null, message: Uint8Array): string | null {
    const problem = validatePublishSubject(subject) ?? (replyTo === null ? null : validatePublishSubject(replyTo));
    if (problem !== null) return problem;
    for (const { subscriber, subscriptionId } of this.table.match(subject)) {
      subscriber.busMessage(Number(subscriptionId.slice(subscriptionId.lastIndexOf("/") + 1)), subject, replyTo, message);
    }
    return null;
  }

  get subscriptionCount(): number {
    return this.table.size;
  }
}

const key = (session: Session, subscriptionId: number): string => `${session.id}/${subscriptionId}`;
