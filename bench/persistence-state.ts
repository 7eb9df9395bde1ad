import { parseArgs } from "node:util";
import { decodeCommand, encodeCommand } from "../src/protocols/persistence/command-codec.js";
import { createPersistenceState } from "../src/protocols/persistence/persistence-state.js";
import type { ClusterStoresConfig, Command, PublishItem } from "../src/protocols/persistence/state-types.js";
import { figure } from "./stats.js";

/**
 * The persistence state machine's hot path, in process: N publish commands of 256 × 128-byte
 * messages into a store with one standard durable that takes everything, each followed by the
 * ack of its 256 sequences; then the same commands through the codec (encode + decode).
 */
export async function persistenceStateBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      commands: { type: "string", default: "4000" },
      items: { type: "string", default: "256" },
      bytes: { type: "string", default: "128" },
    },
  });
  const commandCount = Number(values.commands);
  const itemsPerCommand = Number(values.items);
  const messageBytes = Number(values.bytes);
  const common = { itemsPerCommand, messageBytes, durables: "one standard, empty matcher" };

  const applied = measureApply(commandCount, itemsPerCommand, messageBytes);
  figure("persistence.apply_publish_ack_throughput", applied.messagesPerSecond, "messages/s", common);
  figure("persistence.apply_publish_ack_per_message", applied.microsecondsPerMessage, "µs", common);
  const codec = measureCodec(commandCount, itemsPerCommand, messageBytes);
  figure("persistence.publish_codec_per_command", codec.microsecondsPerCommand, "µs", common);
  process.stderr.write(
    `\npersistence state: publish+ack ${Math.round(applied.messagesPerSecond)} messages/s (${applied.microsecondsPerMessage.toFixed(3)} µs/message); ` +
      `publish command encode+decode ${codec.microsecondsPerCommand.toFixed(1)} µs (${itemsPerCommand} × ${messageBytes} B)\n`,
  );
}

const config: ClusterStoresConfig = {
  stores: [
    {
      name: "ORDERS",
      limits: {},
      full: "reject-new",
      publisherMode: "confirm",
      ackPoint: "quorum-fsync",
      durables: [{ name: "all", type: "standard" }],
      templates: [],
    },
  ],
};

function publishCommand(round: number, itemsPerCommand: number, messageBytes: number): Command {
  const items: PublishItem[] = [];
  for (let item = 0; item < itemsPerCommand; item += 1) items.push({ sequence: round * itemsPerCommand + item + 1, message: new Uint8Array(messageBytes).fill(item & 0xff) });
  return { type: "publish", atMs: round, store: "ORDERS", publisherId: "bench", items };
}

function measureApply(commandCount: number, itemsPerCommand: number, messageBytes: number) {
  const state = createPersistenceState(config);
  const commands = Array.from({ length: commandCount }, (_, round) => publishCommand(round, itemsPerCommand, messageBytes));
  const sequences = Array.from({ length: itemsPerCommand }, () => 0);
  let index = 0;
  const started = performance.now();
  for (const command of commands) {
    const result = state.apply(++index, command);
    if (result.type !== "publish") throw new Error(`publish answered ${result.type}`);
    for (let item = 0; item < itemsPerCommand; item += 1) {
      const outcome = result.outcomes[item];
      sequences[item] = outcome?.status === "stored" ? outcome.storeSequence : 0;
    }
    state.apply(++index, { type: "ack", atMs: command.atMs, store: "ORDERS", durable: "all", sequences });
  }
  const elapsedMs = performance.now() - started;
  const messages = commandCount * itemsPerCommand;
  if (state.store("ORDERS")?.messages !== 0) throw new Error("messages left after acking everything");
  return { messagesPerSecond: (messages * 1000) / elapsedMs, microsecondsPerMessage: (elapsedMs * 1000) / messages };
}

function measureCodec(commandCount: number, itemsPerCommand: number, messageBytes: number) {
  const command = publishCommand(0, itemsPerCommand, messageBytes);
  const started = performance.now();
  for (let round = 0; round < commandCount; round += 1) {
    const decoded = decodeCommand(encodeCommand(command));
    if (!decoded.ok) throw new Error(decoded.error);
  }
  return { microsecondsPerCommand: ((performance.now() - started) * 1000) / commandCount };
}
