import { describe, expect, it } from "vitest";
import { Prng } from "../../src/kernel/prng.js";
import { encodeFrame } from "../../src/wire/frame.js";
import { type EventOwner, Scheduler } from "./scheduler.js";
import { SimNetwork } from "./sim-network.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (payload: Uint8Array): string => new TextDecoder().decode(payload);

function world() {
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, new Prng(7));
  network.faults = { delayMinMs: 1, delayMaxMs: 20 };
  const server: EventOwner = { member: "s1", alive: true };
  const client: EventOwner = { member: "c1", alive: true };
  return { scheduler, network, server, client, serverNet: network.forProcess(server, "10.0.0.1"), clientNet: network.forProcess(client, "10.0.0.9") };
}

describe("SimNetwork", () => {
  it("carries frames in order both ways, each after a delay, as events of the receiving process", async () => {
    const { scheduler, serverNet, clientNet } = world();
    const atServer: string[] = [];
    const atClient: string[] = [];
    await serverNet.listen({ host: "10.0.0.1", port: 7401 }, 1024, (stream) => {
      stream.setFrameHandler((payload) => {
        atServer.push(text(payload));
        stream.write([encodeFrame(bytes(`echo ${text(payload)}`))]);
      });
    });
    const { stream } = clientNet.connect({ host: "10.0.0.1", port: 7401 }, { frameBytesMax: 1024 });
    stream.setFrameHandler((payload) => atClient.push(text(payload)));
    for (let n = 1; n <= 20; n++) stream.write([encodeFrame(bytes(String(n)))]);
    scheduler.runUntil(1000);
    expect(atServer).toEqual(Array.from({ length: 20 }, (_, n) => String(n + 1)));
    expect(atClient).toEqual(atServer.map((n) => `echo ${n}`));
  });

  it("a refused connect, a crashed server and a cut between hosts close streams with TCP's reasons", async () => {
    const { scheduler, network, server, serverNet, clientNet } = world();
    const refused = clientNet.connect({ host: "10.0.0.1", port: 7401 }, { frameBytesMax: 1024 });
    const reasons: string[] = [];
    refused.stream.onClose((reason) => reasons.push(reason));
    scheduler.runUntil(100);
    expect(reasons).toEqual(["connect ECONNREFUSED 10.0.0.1:7401"]);

    await serverNet.listen({ host: "10.0.0.1", port: 7401 }, 1024, (stream) => stream.setFrameHandler(() => {}));
    const first = clientNet.connect({ host: "10.0.0.1", port: 7401 }, { frameBytesMax: 1024 });
    first.stream.onClose((reason) => reasons.push(`first: ${reason}`));
    scheduler.runUntil(200);
    server.alive = false;
    network.processGone(server);
    scheduler.runUntil(300);
    expect(reasons).toContain("first: closed by the remote end");

    const again: EventOwner = { member: "s1", alive: true };
    await network.forProcess(again, "10.0.0.1").listen({ host: "10.0.0.1", port: 7401 }, 1024, (stream) => stream.setFrameHandler(() => {}));
    const second = clientNet.connect({ host: "10.0.0.1", port: 7401 }, { frameBytesMax: 1024 });
    second.stream.onClose((reason) => reasons.push(`second: ${reason}`));
    scheduler.runUntil(400);
    network.cutHosts("10.0.0.1", "10.0.0.9");
    const third = clientNet.connect({ host: "10.0.0.1", port: 7401 }, { frameBytesMax: 1024 });
    third.stream.onClose((reason) => reasons.push(`third: ${reason}`));
    scheduler.runUntil(500);
    expect(reasons).toContain("second: connection reset: 10.0.0.1 and 10.0.0.9 cannot reach each other");
    expect(reasons).toContain("third: connect ETIMEDOUT 10.0.0.1:7401");
  });

  it("a frame over the receiver's bound gets its farewell and the stream closes, as on TCP", async () => {
    const { scheduler, serverNet, clientNet } = world();
    await serverNet.listen({ host: "10.0.0.1", port: 7401 }, 64, (stream) => {
      stream.setFarewell((error) => [encodeFrame(bytes(`bye: ${error.kind}`))]);
      stream.setFrameHandler(() => {});
    });
    const { stream } = clientNet.connect({ host: "10.0.0.1", port: 7401 }, { frameBytesMax: 1024 });
    const heard: string[] = [];
    stream.setFrameHandler((payload) => heard.push(text(payload)));
    stream.onClose((reason) => heard.push(`closed: ${reason}`));
    stream.write([encodeFrame(new Uint8Array(200))]);
    scheduler.runUntil(500);
    expect(heard).toEqual(["bye: frame-too-large", "closed: closed by the remote end"]);
  });
});
