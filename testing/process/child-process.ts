import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * Keep the last `keep` lines a child writes to stderr in `lines` (for a failing test's report,
 * and for tests that read a server's log). Whole lines only: a line split across two reads is
 * joined first, so each entry of a server's JSON log parses.
 */
export function keepLogLines(child: ChildProcess, lines: string[], keep: number): void {
  if (child.stderr) {
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on("line", (line) => {
      lines.push(line);
      if (lines.length > keep) lines.splice(0, lines.length - keep);
    });
  }
  child.stdout?.resume();
}

/** One line of a server's JSON log (src/adapters/node/logger.ts): its level, message and fields. */
export interface LogEntry {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** The JSON entries among a child's log lines; other lines (a crash's stack trace) are left out. */
export function logEntries(lines: readonly string[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as Partial<LogEntry>;
      if (typeof entry.level === "string" && typeof entry.msg === "string") entries.push(entry as LogEntry);
    } catch {
      // Not a log entry: a line of other output that happens to start with a brace.
    }
  }
  return entries;
}

/** kill -9 a child we started and wait until it is gone (no chance to flush or hand over). */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}
