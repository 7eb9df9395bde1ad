/**
 * Assertions stay on in production (TigerBeetle): a broken invariant is a programmer error and
 * crashing beats continuing with corrupt state. Operating errors (peer down, disk full) are
 * values, never assertions.
 */
export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = "unreachable"): never {
  throw new AssertionError(`${message}: ${JSON.stringify(value)}`);
}
