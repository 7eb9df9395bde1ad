import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stopChild } from "../../src/cli/spawn-member.js";
import type { PublishLoopResult } from "../../testing/adversarial/publish-loop.js";

export type PublisherCommand = { readonly type: "start" } | { readonly type: "stop" };
export type PublisherReport = { readonly type: "ready" } | { readonly type: "stopped"; readonly result: PublishLoopResult };

const mainScript = fileURLToPath(new URL("./publisher-main.ts", import.meta.url));

/**
 * The benchmark's side of the publisher process (publisher-main.ts): one confirm-mode publisher,
 * one publish at a time, started and stopped once per phase. Only the process this started is
 * ever signalled.
 */
export class PublisherProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(address: string, timeoutMs = 30_000): Promise<PublisherProcess> {
    const child = fork(mainScript, [address], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const publisher = new PublisherProcess(child);
    await publisher.next("ready", timeoutMs);
    return publisher;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("the publisher process did not start");
    return this.child.pid;
  }

  begin(): void {
    this.send({ type: "start" });
  }

  /** Stops publishing; resolves with the phase's confirms once the publish in flight ended (bounded). */
  async end(timeoutMs = 30_000): Promise<PublishLoopResult> {
    const stopped = this.next("stopped", timeoutMs);
    this.send({ type: "stop" });
    const report = await stopped;
    if (report.type !== "stopped") throw new Error(`expected the publisher's results, got ${report.type}`);
    return report.result;
  }

  async close(): Promise<void> {
    this.child.disconnect();
    await stopChild(this.child, 3000);
  }

  private send(command: PublisherCommand): void {
    this.child.send(command);
  }

  private next(type: PublisherReport["type"], timeoutMs: number): Promise<PublisherReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`the publisher process sent no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (report: PublisherReport): void => {
        if (report.type === type) finish(null, report);
      };
      const onExit = (code: number | null, signal: string | null): void =>
        finish(new Error(`the publisher process exited (${signal ?? code}) before "${type}"`));
      const finish = (error: Error | null, report?: PublisherReport): void => {
        clearTimeout(timer);
        this.child.off("message", onMessage);
        this.child.off("exit", onExit);
        if (error !== null) reject(error);
        else resolve(report as PublisherReport);
      };
      this.child.on("message", onMessage);
      this.child.once("exit", onExit);
    });
  }
}
