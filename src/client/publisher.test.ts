import { describe, expect, it } from "vitest";
import type { Router } from "./connection.js";
import { HoldfastError } from "./errors.js";
import { Publisher } from "./publisher.js";
import type { SessionLink } from "./session-link.js";

interface Sent {
  readonly link: string;
  readonly sequences: readonly number[];
  readonly answer: (answer: unknown) => void;
  readonly fail: (error: Error) => void;
}

/** A link that keeps each publish request until the test answers or fails it. */
function fakeLink(name: string, sent: Sent[]): SessionLink {
  return {
    request: (request: { sequences: readonly number[] }) =>
      new Promise((answer, fail) => sent.push({ link: name, sequences: request.sequences, answer, fail })),
  } as unknown as SessionLink;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("Publisher", () => {
  it("never sends a batch over a second connection while an earlier one is in flight on the first: a lost request is resent before it", async () => {
    const sent: Sent[] = [];
    const oldLeader = fakeLink("old", sent);
    const newLeader = fakeLink("new", sent);
    let leader = oldLeader;
    const router = { credentials: { client: "test" }, requestTimeoutMs: 10_000, closed: false, linkFor: async () => leader, emit: () => {} } as unknown as Router;
    const publisher = new Publisher(router, "orders-in");
    const first = [1, 2].map((n) => publisher.publish({ n: BigInt(n) }));
    await turn();
    await turn();
    expect(sent.map((request) => [request.link, request.sequences])).toEqual([["old", [1, 2]]]);
    // The leader moves; the next batch is made while the first is still in flight on the old one.
    leader = newLeader;
    const second = [3, 4].map((n) => publisher.publish({ n: BigInt(n) }));
    await turn();
    await turn();
    expect(sent.filter((request) => request.link === "new")).toEqual([]);
    // The old connection drops: the first batch is lost, and everything is sent again in order.
    sent[0]?.fail(new HoldfastError("connection-lost", "the leader was killed"));
    for (let waited = 0; waited < 20 && !sent.some((request) => request.link === "new"); waited++) await new Promise((resolve) => setTimeout(resolve, 20));
    const resent = sent.filter((request) => request.link === "new");
    expect(resent.map((request) => request.sequences)).toEqual([[1, 2, 3, 4]]);
    resent[0]?.answer({ type: "published", requestId: 1, ackPoint: "quorum-fsync", statuses: ["stored", "stored", "stored", "stored"], storeSequences: [10, 11, 12, 13], errors: [] });
    expect((await Promise.all([...first, ...second])).map((confirm) => confirm.storeSequence)).toEqual([10, 11, 12, 13]);
  });

  it("a batch still waiting for a connection when an earlier request fails is not sent ahead of it", async () => {
    const sent: Sent[] = [];
    const oldLeader = fakeLink("old", sent);
    const newLeader = fakeLink("new", sent);
    let connected: ((link: SessionLink) => void) | null = null;
    let known: SessionLink | null = null;
    let calls = 0;
    // The first batch gets the old leader's connection at once; the second waits for one (the
    // old leader was just killed and the library is finding the new one); later ones get it.
    const linkFor = (): Promise<SessionLink> => {
      if (++calls === 1) return Promise.resolve(oldLeader);
      if (known !== null) return Promise.resolve(known);
      return new Promise((resolve) => (connected = (link) => resolve((known = link))));
    };
    const router = { credentials: { client: "test" }, requestTimeoutMs: 10_000, closed: false, linkFor, emit: () => {} } as unknown as Router;
    const publisher = new Publisher(router, "orders-in");
    const confirms = [publisher.publish({ n: 1n })];
    await turn();
    await turn();
    confirms.push(publisher.publish({ n: 2n }));
    await turn();
    await turn();
    sent[0]?.fail(new HoldfastError("connection-lost", "the leader was killed"));
    // The failure is handled (its short pause over) before the new leader's connection is up.
    await new Promise((resolve) => setTimeout(resolve, 150));
    (connected as ((link: SessionLink) => void) | null)?.(newLeader);
    for (let waited = 0; waited < 20 && !sent.some((request) => request.link === "new" && request.sequences.includes(1)); waited++) await new Promise((resolve) => setTimeout(resolve, 20));
    const onNew = sent.filter((request) => request.link === "new");
    // Never [2] alone before [1]: the first request to the new leader starts at sequence 1.
    expect(onNew[0]?.sequences[0]).toBe(1);
    onNew[0]?.answer({ type: "published", requestId: 1, ackPoint: "quorum-fsync", statuses: onNew[0].sequences.map(() => "stored"), storeSequences: onNew[0].sequences.map((n) => 20 + n), errors: [] });
    expect((await Promise.all(confirms)).map((confirm) => confirm.storeSequence)).toEqual([21, 22]);
  });
});
