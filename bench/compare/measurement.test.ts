import { expect, it } from "vitest";
import { jsonLine, ratio, type Measurement } from "./measurement.js";
import { comparisonTable } from "./table.js";

const rate: Measurement = { name: "publish-r3.throughput.quorum-fsync", holdfast: 30_000, nats: 20_000, unit: "msgs/s", better: "higher", holdfastAckPoint: "quorum-fsync" };
const latency: Measurement = { name: "publish-r3.p99.quorum-fsync", holdfast: 50, nats: 25, unit: "ms", better: "lower" };
const lost: Measurement = { name: "failover-r3.lost", holdfast: 0, nats: 0, unit: "messages", better: "none" };

it("the ratio is above 1 when Holdfast is better, whichever direction is better", () => {
  expect(ratio(rate)).toBe(1.5);
  expect(ratio(latency)).toBe(0.5);
  expect(ratio(lost)).toBeNull();
  expect(ratio({ ...rate, nats: null })).toBeNull();
  expect(ratio({ ...latency, holdfast: 0 })).toBeNull();
});

it("one JSON line per figure: name, holdfast, nats, ratio, unit (and the ack point the confirms named)", () => {
  expect(JSON.parse(jsonLine(rate))).toEqual({ name: rate.name, holdfast: 30000, nats: 20000, ratio: 1.5, unit: "msgs/s", holdfastAckPoint: "quorum-fsync" });
  expect(jsonLine({ ...latency, holdfast: 1 / 3 })).toBe('{"name":"publish-r3.p99.quorum-fsync","holdfast":0.333,"nats":25,"ratio":75,"unit":"ms"}');
  expect(JSON.parse(jsonLine(lost)).ratio).toBeNull();
});

it("the table aligns its columns and shows missing figures as a dash", () => {
  expect(comparisonTable([rate, latency, { ...lost, nats: null }]).split("\n")).toEqual([
    "| figure                             | unit     | Holdfast | NATS   | ratio (>1: Holdfast better) | Holdfast confirms named |",
    "|------------------------------------|----------|----------|--------|-----------------------------|-------------------------|",
    "| publish-r3.throughput.quorum-fsync | msgs/s   | 30,000   | 20,000 | 1.50x                       | quorum-fsync            |",
    "| publish-r3.p99.quorum-fsync        | ms       | 50.00    | 25.00  | 0.50x                       |                         |",
    "| failover-r3.lost                   | messages | 0        | —      | —                           |                         |",
  ]);
});
