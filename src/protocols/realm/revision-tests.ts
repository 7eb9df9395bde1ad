import { assert } from "../../kernel/assert.js";
import { limits } from "../../kernel/limits.js";
import type { ServerTestAnswer } from "./effects.js";
import type { ClientTestAnswer, Revision } from "./messages.js";
import type { Link, PendingTest, RealmNodeState } from "./node-state.js";

/**
 * A deploy's test down the family (issue 5: "test that every connected client and affiliated
 * server can take it"): the primary asks each downstream server whose link is up; each asks
 * its own clients through its driver and answers; the primary answers its driver once every
 * server answered, its link went down, or testTimeoutMs passed. Nothing is stored.
 */

export function startTest(node: RealmNodeState, requestId: number, revision: Revision): void {
  assert(!node.tests.has(requestId), `realm: test ${requestId} started twice`);
  assert(node.tests.size < limits.realmTestsPendingMax, `realm: more than ${limits.realmTestsPendingMax} tests at once (deploys run one at a time)`);
  const test: PendingTest = { requestId, deadlineMs: node.nowMs + node.options.testTimeoutMs, answers: new Map() };
  for (const link of node.links.values()) {
    if (!link.downstream) continue;
    if (link.state === "up") {
      test.answers.set(link.peer, null);
      node.send(link, { type: "revision-test", requestId, revision });
    } else {
      // Seed 003: a server away does not hold a deploy up; it catches up when it is back.
      test.answers.set(link.peer, { server: link.peer, outcome: "unreachable", clients: [] });
    }
  }
  node.tests.set(requestId, test);
  maybeFinish(node, test);
}

/** From upstream: ask this server's own clients (the driver answers with `clients-tested`). */
export function receiveRevisionTest(node: RealmNodeState, link: Link, requestId: number, revision: Revision): void {
  if (!link.upstream) {
    node.log("warn", `${node.self}: ignored a deploy test from ${link.peer}, which it does not take its definition from`);
    return;
  }
  node.emit({ type: "test-clients", from: link.peer, requestId, revision });
}

/** The driver's answer to `test-clients`; lost when the link is no longer up (upstream sees it go). */
export function clientsTested(node: RealmNodeState, to: string, requestId: number, clients: readonly ClientTestAnswer[]): void {
  const link = node.links.get(to);
  if (link === undefined || link.state !== "up" || !link.upstream) return;
  node.send(link, { type: "revision-test-answer", requestId, clients: clients.slice(0, limits.realmTestClientsMax) });
}

export function receiveTestAnswer(node: RealmNodeState, link: Link, requestId: number, clients: readonly ClientTestAnswer[]): void {
  const test = node.tests.get(requestId);
  // A late answer (after the deadline) or one for a test never sent to this peer: ignored.
  if (test === undefined || test.answers.get(link.peer) !== null) return;
  test.answers.set(link.peer, { server: link.peer, outcome: "answered", clients });
  maybeFinish(node, test);
}

/** A link went down: tests waiting on it count it unreachable. */
export function testLinkDown(node: RealmNodeState, peer: string): void {
  for (const test of [...node.tests.values()]) {
    if (test.answers.get(peer) !== null) continue;
    test.answers.set(peer, { server: peer, outcome: "unreachable", clients: [] });
    maybeFinish(node, test);
  }
}

/** Tests past their deadline: who has not answered timed out. */
export function tickTests(node: RealmNodeState): void {
  for (const test of [...node.tests.values()]) {
    if (node.nowMs < test.deadlineMs) continue;
    for (const [server, answer] of test.answers) {
      if (answer === null) test.answers.set(server, { server, outcome: "timed-out", clients: [] });
    }
    maybeFinish(node, test);
  }
}

function maybeFinish(node: RealmNodeState, test: PendingTest): void {
  const servers: ServerTestAnswer[] = [];
  for (const answer of test.answers.values()) {
    if (answer === null) return;
    servers.push(answer);
  }
  node.tests.delete(test.requestId);
  node.emit({ type: "test-answer", requestId: test.requestId, servers });
}
