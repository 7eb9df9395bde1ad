import { assert } from "../../kernel/assert.js";
import { compileSubjectPattern, subjectMatches, type SubjectPattern } from "../persistence/subject.js";
import { busLimits, type BusLimits } from "./limits.js";
import { LruCache } from "./lru-cache.js";

export { validatePublishSubject } from "./publish-subject.js";

/**
 * Which subscriptions want a publish subject: the bus's hot path, run on every publish.
 *
 * Patterns live in a token trie (a literal child per token, one `*` child, and at each node the
 * subscriptions ending there and those ending in `>` there), so a match walks the subject's
 * tokens and costs in proportion to them and to the wildcard branches taken, never to the
 * number of subscriptions. Results are cached per subject in a bounded LRU cache; an add or
 * remove drops only the cached subjects its pattern matches. See README.md.
 *
 * Pure: no I/O, no clock, no randomness (queue group picks take the caller's number).
 */

/** Unique within one table; the server makes it from the connection and the client's id. */
export type SubscriptionId = string;

/** One subscription as `match` hands it out: the same frozen object for the subscription's life. */
export interface Interest<Subscriber> {
  readonly subscriber: Subscriber;
  readonly subscriptionId: SubscriptionId;
  readonly pattern: string;
  /** Set for a queue subscription: the members of one group share messages, one gets each. */
  readonly queueGroup: string | null;
}

export type AddRefusal = "invalid-pattern" | "invalid-queue-group" | "duplicate-subscription" | "subscriber-limit" | "table-full";

export type AddResult<Subscriber> =
  | { readonly ok: true; readonly interest: Interest<Subscriber> }
  | { readonly ok: false; readonly reason: AddRefusal; readonly detail: string };

interface TrieNode<Subscriber> {
  readonly literal: Map<string, TrieNode<Subscriber>>;
  star: TrieNode<Subscriber> | null;
  /** Subscriptions whose pattern ends at this node. */
  readonly end: Set<Interest<Subscriber>>;
  /** Subscriptions whose pattern is this node's path followed by `>`. */
  readonly rest: Set<Interest<Subscriber>>;
}

interface Subscription<Subscriber> {
  readonly interest: Interest<Subscriber>;
  readonly pattern: SubjectPattern;
}

/** One subject's match, cached whole so a publish with queue groups allocates only its picks. */
interface MatchResult<Subscriber> {
  readonly all: readonly Interest<Subscriber>[];
  /** Subscriptions without a queue group: each gets every message. */
  readonly plain: readonly Interest<Subscriber>[];
  /** Each queue group with a matching member: its matching members, in match order. */
  readonly groups: readonly (readonly Interest<Subscriber>[])[];
}

export class InterestTable<Subscriber> {
  private readonly root: TrieNode<Subscriber> = newNode();
  private readonly subscriptions = new Map<SubscriptionId, Subscription<Subscriber>>();
  private readonly bySubscriber = new Map<Subscriber, Set<SubscriptionId>>();
  private readonly cache: LruCache<MatchResult<Subscriber>>;

  constructor(private readonly limits: BusLimits = busLimits) {
    this.cache = new LruCache(limits.matchCacheEntriesMax);
  }

  /** Subscriptions in the table. */
  get size(): number {
    return this.subscriptions.size;
  }

  /** Subjects whose match is cached (for tests and benchmarks). */
  get cachedMatches(): number {
    return this.cache.size;
  }

  add(pattern: string, subscriber: Subscriber, subscriptionId: SubscriptionId, queueGroup: string | null = null): AddResult<Subscriber> {
    const compiled = compileSubjectPattern(pattern, this.limits.matcher);
    if (!compiled.ok) return { ok: false, reason: "invalid-pattern", detail: compiled.detail };
    if (queueGroup !== null) {
      const detail = queueGroupError(queueGroup, this.limits);
      if (detail !== null) return { ok: false, reason: "invalid-queue-group", detail };
    }
    if (this.subscriptions.has(subscriptionId)) {
      return { ok: false, reason: "duplicate-subscription", detail: `subscription ${JSON.stringify(subscriptionId)} already exists` };
    }
    const owned = this.bySubscriber.get(subscriber);
    if ((owned?.size ?? 0) >= this.limits.subscriptionsPerSubscriberMax) {
      return { ok: false, reason: "subscriber-limit", detail: `a connection holds at most ${this.limits.subscriptionsPerSubscriberMax} subscriptions` };
    }
    if (this.subscriptions.size >= this.limits.subscriptionsMax) {
      return { ok: false, reason: "table-full", detail: `the server holds at most ${this.limits.subscriptionsMax} subscriptions` };
    }

    const interest: Interest<Subscriber> = Object.freeze({ subscriber, subscriptionId, pattern, queueGroup });
    const tokens = compiled.pattern.tokens;
    const wildcardRest = tokens[tokens.length - 1] === ">";
    let node = this.root;
    for (const token of wildcardRest ? tokens.slice(0, -1) : tokens) node = childFor(node, token);
    (wildcardRest ? node.rest : node.end).add(interest);

    this.subscriptions.set(subscriptionId, { interest, pattern: compiled.pattern });
    if (owned === undefined) this.bySubscriber.set(subscriber, new Set([subscriptionId]));
    else owned.add(subscriptionId);
    this.invalidate(compiled.pattern);
    return { ok: true, interest };
  }

  /** Returns whether the subscription existed. */
  remove(subscriptionId: SubscriptionId): boolean {
    const subscription = this.subscriptions.get(subscriptionId);
    if (subscription === undefined) return false;
    this.forget(subscription);
    this.invalidate(subscription.pattern);
    return true;
  }

  /** Removes every subscription of a subscriber (its connection closed); returns how many. */
  removeAll(subscriber: Subscriber): number {
    const owned = this.bySubscriber.get(subscriber);
    if (owned === undefined) return 0;
    const removed = [...owned].map((subscriptionId) => {
      const subscription = this.subscriptions.get(subscriptionId);
      assert(subscription !== undefined, `subscriber index names a missing subscription ${subscriptionId}`);
      this.forget(subscription);
      return subscription.pattern;
    });
    assert(!this.bySubscriber.has(subscriber), "removeAll left the subscriber indexed");
    // A connection closing is rare next to publishes: one clear beats a sweep of the cache per
    // wildcard pattern. Literal patterns (inboxes) drop just their own entry.
    if (removed.every(isLiteral)) for (const pattern of removed) this.cache.drop(pattern.source);
    else this.cache.clear();
    return removed.length;
  }

  /**
   * Every subscription interested in `subject`, each exactly once (two overlapping
   * subscriptions of one subscriber are two entries: delivery is per subscription, as in NATS),
   * queue subscriptions included. The subject must have passed `validatePublishSubject`.
   * The array is shared with the cache: read it, never change it.
   */
  match(subject: string): readonly Interest<Subscriber>[] {
    return this.lookup(subject).all;
  }

  /**
   * Who gets one publish: every matching subscription without a queue group, plus one member
   * of each matching queue group, member `pick % members` in match order. `pick` is the
   * caller's round-robin counter or seeded random number (a non-negative integer).
   */
  deliveryTargets(subject: string, pick: number): readonly Interest<Subscriber>[] {
    assert(Number.isSafeInteger(pick) && pick >= 0, `pick must be a non-negative integer, got ${pick}`);
    const result = this.lookup(subject);
    if (result.groups.length === 0) return result.plain;
    const targets = [...result.plain];
    for (const members of result.groups) targets.push(members[pick % members.length] as Interest<Subscriber>);
    return targets;
  }

  private lookup(subject: string): MatchResult<Subscriber> {
    const cached = this.cache.get(subject);
    if (cached !== undefined) return cached;
    const result = groupResult(walk(this.root, subject));
    this.cache.set(subject, result);
    return result;
  }

  /** Takes a subscription out of the trie and the indexes, pruning nodes left empty. */
  private forget({ interest, pattern }: Subscription<Subscriber>): void {
    const tokens = pattern.tokens;
    const wildcardRest = tokens[tokens.length - 1] === ">";
    const pathTokens = wildcardRest ? tokens.slice(0, -1) : tokens;
    const path: TrieNode<Subscriber>[] = [this.root];
    for (const token of pathTokens) {
      const next = token === "*" ? (path[path.length - 1] as TrieNode<Subscriber>).star : (path[path.length - 1] as TrieNode<Subscriber>).literal.get(token);
      assert(next !== null && next !== undefined, `subscription ${interest.subscriptionId} is missing from the trie`);
      path.push(next);
    }
    const last = path[path.length - 1] as TrieNode<Subscriber>;
    const deleted = (wildcardRest ? last.rest : last.end).delete(interest);
    assert(deleted, `subscription ${interest.subscriptionId} is missing from its trie node`);
    for (let depth = pathTokens.length; depth > 0; depth -= 1) {
      const node = path[depth] as TrieNode<Subscriber>;
      if (!isEmpty(node)) break;
      const parent = path[depth - 1] as TrieNode<Subscriber>;
      const token = pathTokens[depth - 1] as string;
      if (token === "*") parent.star = null;
      else parent.literal.delete(token);
    }

    this.subscriptions.delete(interest.subscriptionId);
    const owned = this.bySubscriber.get(interest.subscriber);
    assert(owned !== undefined && owned.delete(interest.subscriptionId), `subscription ${interest.subscriptionId} is missing from its subscriber's index`);
    if (owned.size === 0) this.bySubscriber.delete(interest.subscriber);
  }

  /** Drops the cached subjects a pattern matches: they gained or lost a subscription. */
  private invalidate(pattern: SubjectPattern): void {
    if (isLiteral(pattern)) this.cache.drop(pattern.source);
    else this.cache.dropWhere((subject) => subjectMatches(pattern, subject));
  }
}

function newNode<Subscriber>(): TrieNode<Subscriber> {
  return { literal: new Map(), star: null, end: new Set(), rest: new Set() };
}

function childFor<Subscriber>(node: TrieNode<Subscriber>, token: string): TrieNode<Subscriber> {
  if (token === "*") return (node.star ??= newNode());
  let child = node.literal.get(token);
  if (child === undefined) {
    child = newNode();
    node.literal.set(token, child);
  }
  return child;
}

function isEmpty(node: TrieNode<unknown>): boolean {
  return node.literal.size === 0 && node.star === null && node.end.size === 0 && node.rest.size === 0;
}

function isLiteral(pattern: SubjectPattern): boolean {
  return pattern.tokens.every((token) => token !== "*" && token !== ">");
}

/**
 * Walks the trie depth first. Each node is reached from its one parent at most once, so each
 * subscription is found at most once. At a node reached after `depth` tokens with tokens left
 * over, its `>` subscriptions match (`>` takes one or more tokens); past the last token, its
 * ending subscriptions do.
 */
function walk<Subscriber>(root: TrieNode<Subscriber>, subject: string): Interest<Subscriber>[] {
  const found: Interest<Subscriber>[] = [];
  collect(root, subject.split("."), 0, found);
  return found;
}

function collect<Subscriber>(node: TrieNode<Subscriber>, tokens: readonly string[], depth: number, found: Interest<Subscriber>[]): void {
  if (depth === tokens.length) {
    for (const interest of node.end) found.push(interest);
    return;
  }
  for (const interest of node.rest) found.push(interest);
  const literal = node.literal.get(tokens[depth] as string);
  if (literal !== undefined) collect(literal, tokens, depth + 1, found);
  if (node.star !== null) collect(node.star, tokens, depth + 1, found);
}

function groupResult<Subscriber>(all: Interest<Subscriber>[]): MatchResult<Subscriber> {
  // Plain loops and no Object.freeze: this runs on every cache miss (profiled).
  let queued = false;
  for (const interest of all) if (interest.queueGroup !== null) queued = true;
  if (!queued) return { all, plain: all, groups: [] };
  const plain: Interest<Subscriber>[] = [];
  const groups = new Map<string, Interest<Subscriber>[]>();
  for (const interest of all) {
    if (interest.queueGroup === null) plain.push(interest);
    else {
      const members = groups.get(interest.queueGroup);
      if (members === undefined) groups.set(interest.queueGroup, [interest]);
      else members.push(interest);
    }
  }
  // Members stay in walk order, which is fixed while the table is unchanged, so a round-robin
  // counter visits each member in turn.
  return { all, plain, groups: [...groups.values()] };
}

function queueGroupError(queueGroup: string, limits: BusLimits): string | null {
  if (queueGroup.length === 0) return "empty queue group name";
  if (queueGroup.length > limits.queueGroupLengthMax) return `queue group name longer than ${limits.queueGroupLengthMax} characters`;
  if (/\s/.test(queueGroup)) return `whitespace in queue group name ${JSON.stringify(queueGroup)}`;
  return null;
}
