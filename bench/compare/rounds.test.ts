import { expect, it } from "vitest";
import type { Measurement } from "./measurement.js";
import { combineRounds, median } from "./rounds.js";

it("median of odd and even counts", () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});

const rate = (holdfast: number, nats: number, ackPoint = "quorum-fsync"): Measurement => ({ name: "publish-r3.throughput.quorum-fsync", holdfast, nats, unit: "msgs/s", better: "higher", holdfastAckPoint: ackPoint });
const lost = (holdfast: number): Measurement => ({ name: "failover-r3.lost", holdfast, nats: 0, unit: "messages", better: "none" });

it("rounds combine into the median per system; a count that must be zero keeps its worst round", () => {
  const { rows, spread } = combineRounds([
    [rate(100, 50), lost(0)],
    [rate(300, 40), lost(2)],
    [rate(200, 60, "quorum-memory"), lost(0)],
  ]);
  expect(rows).toEqual([
    { ...rate(200, 50), holdfastAckPoint: "quorum-fsync / quorum-memory" },
    lost(2),
  ]);
  expect(spread.get("failover-r3.lost")).toEqual({ holdfast: [0, 2, 0], nats: [0, 0, 0] });
});
