import { describe, expect, it } from "vitest";
import { jsonLogger } from "../adapters/node/logger.js";
import { prettyLogLine, prettyLogLines } from "./log-lines.js";

function jsonLines(write: (log: ReturnType<typeof jsonLogger>) => void): string[] {
  const lines: string[] = [];
  write(jsonLogger({ level: "info", destination: { write: (text: string) => void lines.push(text.trimEnd()) } }));
  return lines;
}

describe("prettyLogLine", () => {
  it("shows a server's JSON line as time, level, server and message", () => {
    const [line] = jsonLines((log) => log.child({ server: "s1", cluster: "c1", service: "c1-a" }).warn("c1-a: follower in term 4", { term: 4 }));
    expect(prettyLogLine(line ?? "")).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: s1: c1-a: follower in term 4$/);
  });

  it("names a bare member, and leaves a line that is not JSON as it is", () => {
    const lines = jsonLines((log) => log.child({ member: "a" }).info("leader in term 2"));
    expect(prettyLogLine(lines[0] ?? "")).toMatch(/\] INFO: a: leader in term 2$/);
    expect(prettyLogLines("TypeError: boom\n    at main.ts:3\n")).toEqual(["TypeError: boom", "    at main.ts:3"]);
  });
});
