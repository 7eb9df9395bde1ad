import { describe, expect, it } from "vitest";
import { encodeMessage } from "../protocols/persistence/message-codec.js";
import { message } from "../protocols/persistence/message.js";
import type { Router } from "./connection.js";
import { HoldfastError } from "./errors.js";
import type { Push, SessionLink } from "./session-link.js";
import { Subscription } from "./subscription.js";

/** A link that answers subscribe with ok and acks with what `ack` says. */
function fakeLink(ack: () => Promise<unknown>): SessionLink {
  return {
    isClosed: false,
    onClose: () => {},
    request: (request: { type: string }) => (request.type === "ack" ? ack() : Promise.resolve({ type: "ok", requestId: 1 })),
  } as unknown as SessionLink;
}

describe("Subscription", () => {
  it("a sync ack over a connection the server is closing moves to a new one, and never holds the process meanwhile", async () => {
    const events: string[] = [];
    // The server sent `closing` (a backup handing its clients back): the link refuses at once,
    // and its socket's close event has not run yet.
    const closing = fakeLink(() => Promise.reject(new HoldfastError("connection-lost", "connection is closed: reconnect to p1")));
    const next = fakeLink(() => Promise.resolve({ type: "ok", requestId: 2 }));
    const links = [closing, next];
    let push: ((link: SessionLink, pushed: Push) => void) | null = null;
    const router = {
      requestTimeoutMs: 2000,
      closed: false,
      linkFor: async () => links.shift() ?? next,
      onPush: (handler: (link: SessionLink, pushed: Push) => void) => (push = handler),
      emit: () => {},
    } as unknown as Router;
    const acked = new Promise<void>((resolve, reject) => {
      const subscription = new Subscription(router, "orders-in", { durable: "billing", ack: "sync" }, async (delivered) => {
        setTimeout(() => events.push("a timer set before the ack"), 5);
        await delivered.ack().then(() => {
          events.push("acked");
          resolve();
        }, reject);
      });
      void subscription.start().then(() => {
        push?.(closing, { type: "deliver", subscriptionId: subscription.subscriptionId, sequences: [7], deliveryCounts: [1], messages: [encodeMessage(message({ n: 1n }))], keys: [] });
      });
    });
    await acked;
    expect(events).toEqual(["a timer set before the ack", "acked"]);
  });
});
