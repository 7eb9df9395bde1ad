import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RefusalLog } from "./refusal-log.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("refusal log", () => {
  it("logs the first refusal of a kind at once, then one summary per interval naming the busiest addresses", () => {
    const lines: string[] = [];
    const log = new RefusalLog({ what: "client connections", warn: (line) => lines.push(line), intervalMs: 10_000, addressesMax: 2 });
    for (let n = 0; n < 4118; n += 1) log.refused("127.0.0.2", "too-many-connections", "more than 32 from 127.0.0.2");
    log.refused("127.0.0.3", "too-many-connections", "more than 32 from 127.0.0.3");
    log.refused("127.0.0.4", "too-many-connections", "more than 32 from 127.0.0.4");
    expect(lines).toEqual(["refused client connections from 127.0.0.2 (too-many-connections): more than 32 from 127.0.0.2; more of these are summarised every 10 s"]);
    vi.advanceTimersByTime(10_000);
    expect(lines[1]).toBe("refused 4,119 client connections in the last 10 s (too-many-connections): 127.0.0.2 4,117, 127.0.0.3 1, other addresses 1; last: more than 32 from 127.0.0.4");
    // A quiet interval ends the kind: the next refusal is logged at once again.
    vi.advanceTimersByTime(20_000);
    expect(lines).toHaveLength(2);
    log.refused("127.0.0.2", "too-many-connections", "again");
    expect(lines[2]).toContain("from 127.0.0.2 (too-many-connections): again");
    log.stop();
  });
});
