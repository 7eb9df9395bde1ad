import { limits } from "../../kernel/limits.js";
import { matcherLimits, type MatcherLimits } from "../persistence/limits.js";

/**
 * Bounds of the bus's interest table. The values are named in src/kernel/limits.ts; the table
 * takes a `BusLimits` so tests can shrink them (a two-entry match cache, say).
 */
export type BusLimits = {
  /** Subscriptions one subscriber (a client connection) holds at once. */
  readonly subscriptionsPerSubscriberMax: number;
  /** Subscriptions in one table, over all subscribers. */
  readonly subscriptionsMax: number;
  /** Publish subjects whose match result is cached; the least recently used goes first. */
  readonly matchCacheEntriesMax: number;
  /** Characters in one publish subject. */
  readonly subjectLengthMax: number;
  /** Characters in one queue group name. */
  readonly queueGroupLengthMax: number;
  /** Subscription patterns are compiled with these (pattern length, tokens); also caps publish subject tokens. */
  readonly matcher: MatcherLimits;
};

export const busLimits: BusLimits = {
  subscriptionsPerSubscriberMax: limits.busSubscriptionsPerConnectionMax,
  subscriptionsMax: limits.busSubscriptionsMax,
  matchCacheEntriesMax: limits.busMatchCacheEntriesMax,
  subjectLengthMax: limits.busSubjectLengthMax,
  queueGroupLengthMax: limits.busQueueGroupLengthMax,
  matcher: matcherLimits,
};
