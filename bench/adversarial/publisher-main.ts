/**
 * The real publisher of `npm run bench -- adversarial`: the client library in a process of its
 * own, so that the attacker's work in the benchmark process never delays this event loop and
 * every confirm latency is the server's doing. Started by publisher-process.ts with the
 * server's client address; over IPC it is told `start` and `stop` once per phase, and answers
 * `stop` with the phase's confirm latencies and failures. Exits when its parent goes.
 */
import { connect } from "../../src/client/client.js";
import { publisherCredentials } from "../../testing/adversarial/lone-server.js";
import { keepPublishing, type PublishLoopResult } from "../../testing/adversarial/publish-loop.js";
import type { PublisherCommand, PublisherReport } from "./publisher-process.js";

const address = process.argv[2];
if (address === undefined || process.send === undefined) throw new Error("usage: forked with IPC, argument: the server's client address host:port");
const report = (message: PublisherReport): void => void process.send?.(message);

const connection = await connect({ servers: [address], ...publisherCredentials });
let loop: { stop(): Promise<PublishLoopResult> } | undefined;
process.on("message", (command: PublisherCommand) => {
  if (command.type === "start" && loop === undefined) {
    loop = keepPublishing(connection);
  } else if (command.type === "stop" && loop !== undefined) {
    const stopping = loop;
    loop = undefined;
    void stopping.stop().then((result) => report({ type: "stopped", result }));
  }
});
process.on("disconnect", () => {
  connection.close();
  process.exit(0);
});
report({ type: "ready" });
