/**
 * The Holdfast client library: `import { connect, message } from "holdfast"`.
 * See docs/client.md for the guide and runnable examples.
 */
export { connect, Connection, type BusHandler, type BusMessage } from "./client/client.js";
export type { ConnectOptions, ConnectionEvent } from "./client/connection.js";
export { HoldfastError, type ClientErrorCode } from "./client/errors.js";
export type { MapDurable } from "./client/map.js";
export type { Confirm, Publisher, PublisherOptions } from "./client/publisher.js";
export type { Delivered, DeliveryHandler, SubscribeOptions, Subscription } from "./client/subscription.js";
export type { MatcherSpec, FieldTestSpec } from "./protocols/persistence/matcher.js";
export { array, bool, bytes, float, int, message, nested, string, timestamp, type Message, type Value } from "./protocols/persistence/message.js";
