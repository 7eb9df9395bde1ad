import type { RealmMessage } from "./messages.js";

/** What the driver hands the realm service; time arrives beside each input as `nowMs`. */
export type RealmInput =
  /** Time passed: heartbeats, link timeouts, redials. The driver ticks at least every 100 ms. */
  | { readonly type: "tick" }
  /**
   * A connection with `peer` is open: one we dialed, or one `peer` dialed and the transport
   * authenticated (`inbound`). A new connection replaces any earlier one with the same peer.
   */
  | { readonly type: "connected"; readonly peer: string; readonly inbound: boolean }
  /**
   * The connection with `peer` closed, or our dial to it failed. Every `dial` effect ends in
   * `connected` or `disconnected` (the driver bounds the connect time): a link waits for it.
   */
  | { readonly type: "disconnected"; readonly peer: string }
  | { readonly type: "message"; readonly from: string; readonly message: RealmMessage }
  /**
   * An administrator deploys a definition that the driver has already validated (src/realm);
   * `hash` is of `text`. Answered by one `deploy-answer` effect with the same `requestId`.
   */
  | { readonly type: "deploy"; readonly requestId: number; readonly text: string; readonly hash: string };
