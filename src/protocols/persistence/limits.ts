import { limits } from "../../kernel/limits.js";

/**
 * Bounds of the persistence message model. The values are named in src/kernel/limits.ts;
 * callers pass a `MessageLimits` so tests can shrink them and stores can lower them.
 */
export type MessageLimits = {
  /** Characters in one field name (names are ASCII, so this is also bytes). */
  readonly fieldNameLengthMax: number;
  /** Fields in one message, nested messages counted separately. */
  readonly fieldsPerMessageMax: number;
  /** Elements in one array field. */
  readonly arrayLengthMax: number;
  /** Nested message depth; the top-level message is depth 1. */
  readonly nestingDepthMax: number;
  /** Encoded size of a whole message (see `messageBytes`). Stores may set a lower maximum. */
  readonly messageBytesMax: number;
};

export const messageLimits: MessageLimits = {
  fieldNameLengthMax: limits.messageFieldNameLengthMax,
  fieldsPerMessageMax: limits.messageFieldsMax,
  arrayLengthMax: limits.messageArrayLengthMax,
  nestingDepthMax: limits.messageNestingDepthMax,
  messageBytesMax: limits.messageBytesMax,
};

export type MatcherLimits = {
  /** Field tests in one matcher (the subject shorthand counts as one). */
  readonly fieldTestsMax: number;
  /** Characters in one subject pattern. */
  readonly subjectPatternLengthMax: number;
  /** Dot-separated tokens in one subject pattern. */
  readonly subjectTokensMax: number;
  /** Field names in one dotted field path (`customer.address.country` is 3). */
  readonly fieldPathLengthMax: number;
};

export const matcherLimits: MatcherLimits = {
  fieldTestsMax: limits.matcherFieldTestsMax,
  subjectPatternLengthMax: limits.subjectPatternLengthMax,
  subjectTokensMax: limits.subjectTokensMax,
  fieldPathLengthMax: limits.matcherFieldPathLengthMax,
};
