import type { ClientTestAnswer, RealmMessage, Revision } from "./messages.js";

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
  | { readonly type: "deploy"; readonly requestId: number; readonly text: string; readonly hash: string }
  /**
   * A deploy's test (on the primary): ask every downstream server whose link is up whether its
   * clients could take `revision`. Answered by one `test-answer` effect with the same
   * `requestId`, once every asked server answered, its link went down, or testTimeoutMs passed.
   */
  | { readonly type: "test"; readonly requestId: number; readonly revision: Revision }
  /** The driver's answer to a `test-clients` effect: its clients' answers go back to `to`. */
  | { readonly type: "clients-tested"; readonly to: string; readonly requestId: number; readonly clients: readonly ClientTestAnswer[] };
