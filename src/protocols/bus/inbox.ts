import { assert } from "../../kernel/assert.js";

/**
 * Request/reply on the bus: a requester subscribes to its inbox pattern (`_INBOX.<connection>.*`)
 * and publishes each request with the reply subject `_INBOX.<connection>.<request>`; the
 * responder publishes the answer there. One subscription per connection serves all its
 * requests, so a request costs no subscribe/unsubscribe (NATS's "muxed" inbox).
 */
export const inboxRoot = "_INBOX";

/** `_INBOX.<connectionId>`: the subjects under it reach that connection's requests. */
export function inboxPrefix(connectionId: string): string {
  assertToken(connectionId, "connection id");
  return `${inboxRoot}.${connectionId}`;
}

/** The pattern a connection subscribes to once for all its replies. */
export function inboxPattern(connectionId: string): string {
  return `${inboxPrefix(connectionId)}.*`;
}

/** The reply subject of one request. */
export function inboxSubject(connectionId: string, requestId: string): string {
  assertToken(requestId, "request id");
  return `${inboxPrefix(connectionId)}.${requestId}`;
}

/** Whether a subject (or pattern) lies under `_INBOX.`, i.e. has at least one token after it. */
export function isInbox(subject: string): boolean {
  return subject.startsWith(`${inboxRoot}.`) && subject.length > inboxRoot.length + 1;
}

/** Ids are chosen by the server and client code, never by users: a bad one is a programmer error. */
function assertToken(value: string, what: string): void {
  assert(value.length > 0 && !/[.*>\s]/.test(value), `${what} must be one subject token without wildcards, got ${JSON.stringify(value)}`);
}
