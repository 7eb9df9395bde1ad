import { describe, expect, it } from "vitest";
import { jsonLogger, type LogLevel } from "./logger.js";

function capture(level: LogLevel): { lines: Record<string, unknown>[]; log: ReturnType<typeof jsonLogger> } {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (text: string) => void lines.push(JSON.parse(text) as Record<string, unknown>) };
  return { lines, log: jsonLogger({ level, destination }) };
}

describe("jsonLogger", () => {
  it("writes one JSON object per line with the level's name, an ISO time and the message", () => {
    const { lines, log } = capture("info");
    log.warn("disk slow");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", msg: "disk slow", pid: process.pid });
    expect(new Date(lines[0]?.time as string).toISOString()).toBe(lines[0]?.time);
  });

  it("carries a child's fields on every line, and a call's own fields on that line only", () => {
    const { lines, log } = capture("info");
    const service = log.child({ server: "s1" }).child({ cluster: "c1", service: "c1-a" });
    service.info("c1-a: leader in term 3", { term: 3, role: "leader" });
    service.error("c1-a: disk failure");
    expect(lines).toEqual([
      expect.objectContaining({ level: "info", server: "s1", cluster: "c1", service: "c1-a", term: 3, role: "leader", msg: "c1-a: leader in term 3" }),
      expect.objectContaining({ level: "error", server: "s1", cluster: "c1", service: "c1-a", msg: "c1-a: disk failure" }),
    ]);
    expect(lines[1]).not.toHaveProperty("term");
  });

  it("drops lines below its level, and writes none when silent", () => {
    const warnings = capture("warn");
    warnings.log.info("joined");
    warnings.log.warn("lagging");
    warnings.log.error("stopped");
    expect(warnings.lines.map((line) => line.level)).toEqual(["warn", "error"]);
    const silent = capture("silent");
    silent.log.error("stopped");
    expect(silent.lines).toEqual([]);
  });

  it("keeps a message with format characters as it is", () => {
    const { lines, log } = capture("info");
    log.info("100%s of %d done", { store: "orders" });
    expect(lines[0]?.msg).toBe("100%s of %d done");
  });
});
