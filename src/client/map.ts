import { encodeMessage, decodeMessage } from "../protocols/persistence/message-codec.js";
import { message as toMessage, type Message, type PlainValue } from "../protocols/persistence/message.js";
import { validateMessage } from "../protocols/persistence/message-validation.js";
import { failure, type Router } from "./connection.js";
import { HoldfastError } from "./errors.js";

const pageCountMax = 1024;

/**
 * A map durable: a replicated key/value table. Writes resolve once the cluster recorded them;
 * reads are answered by the leader from its applied state (they see every write this
 * connection has had confirmed).
 */
export class MapDurable {
  constructor(
    private readonly router: Router,
    readonly endpoint: string,
    readonly name: string,
  ) {}

  async get(key: string): Promise<Message | undefined> {
    const answer = await this.router.persistenceRequest(this.endpoint, { type: "map-get", endpoint: this.endpoint, map: this.name, key });
    if (answer.type !== "map-value") throw failure(answer, "map-value");
    return answer.message === null ? undefined : decoded(answer.message);
  }

  async set(key: string, value: Message | Readonly<Record<string, PlainValue>>): Promise<void> {
    const message = value instanceof Map ? value : toMessage(value as Readonly<Record<string, PlainValue>>);
    const checked = validateMessage(message);
    if (!checked.ok) throw new HoldfastError("invalid-message", checked.errors.map((error) => `${error.path}: expected ${error.expected}`).join("; "));
    const answer = await this.router.persistenceRequest(this.endpoint, { type: "map-set", endpoint: this.endpoint, map: this.name, key, message: encodeMessage(checked.message) });
    if (answer.type !== "ok") throw failure(answer, "ok");
  }

  async remove(key: string): Promise<void> {
    const answer = await this.router.persistenceRequest(this.endpoint, { type: "map-remove", endpoint: this.endpoint, map: this.name, key });
    if (answer.type !== "ok") throw failure(answer, "ok");
  }

  /** Every entry in key order, fetched a page at a time. */
  async *entries(): AsyncGenerator<[string, Message]> {
    let afterKey = "";
    for (;;) {
      const answer = await this.router.persistenceRequest(this.endpoint, { type: "map-iterate", endpoint: this.endpoint, map: this.name, afterKey, countMax: pageCountMax });
      if (answer.type !== "map-entries") throw failure(answer, "map-entries");
      for (let at = 0; at < answer.keys.length; at++) yield [answer.keys[at] as string, decoded(answer.messages[at] as Uint8Array)];
      if (answer.keys.length === 0) return;
      afterKey = answer.keys[answer.keys.length - 1] as string;
    }
  }
}

function decoded(bytes: Uint8Array): Message {
  const result = decodeMessage(bytes);
  if (!result.ok) throw new HoldfastError("invalid-message", `stored value does not decode: ${result.error.detail}`);
  return result.message;
}
