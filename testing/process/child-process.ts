import type { ChildProcess } from "node:child_process";

/** Keep the last `keep` lines a child writes to stderr in `lines` (for a failing test's report). */
export function keepLogLines(child: ChildProcess, lines: string[], keep: number): void {
  child.stderr?.on("data", (chunk: Buffer) => {
    lines.push(...chunk.toString().trimEnd().split("\n"));
    if (lines.length > keep) lines.splice(0, lines.length - keep);
  });
  child.stdout?.resume();
}

/** kill -9 a child we started and wait until it is gone (no chance to flush or hand over). */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}
