import type { ErrorCode } from "../wire/session-codec.js";

/** Codes the client library adds to the server's (see session-codec.ts). */
export type ClientErrorCode = ErrorCode | "connection-lost" | "timeout" | "closed";

/**
 * Every failure the client library reports: `code` is stable (branch on it), `message` says
 * what was wrong and what was expected.
 */
export class HoldfastError extends Error {
  override name = "HoldfastError";
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** With `not-serving`: the servers (host:port) this one says to try instead. */
    readonly servers: readonly string[] = [],
    /** With `backed-off` and `busy`: how long the server said to wait before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(`${code}: ${message}`);
  }
}
