import { describe, expect, it } from "vitest";
import { Prng } from "../../src/kernel/prng.js";
import type { Message } from "../../src/protocols/consensus/messages.js";
import { Network } from "./network.js";
import { type EventOwner, Scheduler } from "./scheduler.js";

function heartbeat(from: string, to: string, term = 1): Message {
  return { type: "append", from, to, term, prevIndex: 0, prevTerm: 0, entries: [], commitIndex: 0, sentAtMs: 0 , commitWithoutFollower: false};
}

function setup(seed = 1) {
  const scheduler = new Scheduler();
  const network = new Network(scheduler, new Prng(seed));
  const received = new Map<string, Message[]>();
  const owners = new Map<string, EventOwner>();
  const transports = ["m1", "m2", "m3"].map((member) => {
    const owner = { member, alive: true };
    owners.set(member, owner);
    const transport = network.connect(owner);
    received.set(member, []);
    transport.onMessage((message) => received.get(member)?.push(message));
    return transport;
  });
  return { scheduler, network, received, owners, transports };
}

describe("Network", () => {
  it("delivers within the delay bounds", () => {
    const { scheduler, network, received, transports } = setup();
    network.faults = { ...network.faults, delayMinMs: 3, delayMaxMs: 7 };
    transports[0]?.send(heartbeat("m1", "m2"));
    scheduler.runUntil(2);
    expect(received.get("m2")).toHaveLength(0);
    scheduler.runUntil(7);
    expect(received.get("m2")).toHaveLength(1);
  });

  it("cuts symmetric partitions both ways and one-way cuts one way", () => {
    const { scheduler, network, received, transports } = setup();
    network.partition([["m1"], ["m2", "m3"]]);
    transports[0]?.send(heartbeat("m1", "m2"));
    transports[1]?.send(heartbeat("m2", "m1"));
    transports[1]?.send(heartbeat("m2", "m3"));
    scheduler.runUntil(100);
    expect(received.get("m1")).toHaveLength(0);
    expect(received.get("m2")).toHaveLength(0);
    expect(received.get("m3")).toHaveLength(1);
    network.heal();
    network.cutLink("m1", "m2");
    transports[0]?.send(heartbeat("m1", "m2"));
    transports[1]?.send(heartbeat("m2", "m1"));
    scheduler.runUntil(200);
    expect(received.get("m1")).toHaveLength(1);
    expect(received.get("m2")).toHaveLength(0);
  });

  it("loses, duplicates and reorders the same way for the same seed", () => {
    const run = (seed: number) => {
      const { scheduler, network, received, transports } = setup(seed);
      network.faults = { delayMinMs: 0, delayMaxMs: 20, lossProbability: 0.2, duplicateProbability: 0.2, straggleProbability: 0.1, straggleMaxMs: 100 };
      for (let term = 1; term <= 200; term++) transports[0]?.send(heartbeat("m1", "m2", term));
      scheduler.runUntil(1000);
      return (received.get("m2") ?? []).map((message) => message.term);
    };
    const terms = run(7);
    expect(run(7)).toEqual(terms);
    expect(terms.length).toBeLessThan(200 * 1.2);
    expect(new Set(terms).size).toBeLessThan(200); // some lost
    expect(terms.length).toBeGreaterThan(new Set(terms).size); // some duplicated
    expect([...terms].sort((a, b) => a - b)).not.toEqual(terms); // some reordered
  });

  it("drops messages to a member that is down and holds them for a paused one", () => {
    const { scheduler, network, received, owners, transports } = setup();
    (owners.get("m2") as EventOwner).alive = false;
    transports[0]?.send(heartbeat("m1", "m2"));
    scheduler.pause("m3");
    transports[0]?.send(heartbeat("m1", "m3"));
    scheduler.runUntil(100);
    expect(received.get("m2")).toHaveLength(0);
    expect(received.get("m3")).toHaveLength(0);
    scheduler.resume("m3");
    scheduler.runUntil(101);
    expect(received.get("m3")).toHaveLength(1);
    expect(network.messagesSent).toBe(2);
  });
});
