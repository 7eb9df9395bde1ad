import type { Logger } from "../adapters/node/logger.js";

/** Redraw a live screen in a terminal; append it when output goes to a file or pipe. */
export function showScreen(lines: readonly string[]): void {
  if (process.stdout.isTTY) process.stdout.write(`\x1b[2J\x1b[H${lines.join("\n")}\n`);
  else process.stdout.write(`${lines.join("\n")}\n\n`);
}

/** Resolves at the first Ctrl-C or SIGTERM (then stops listening for them). */
export function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** On SIGTERM or SIGINT, stop gracefully (once) and exit with `exitCode`. */
export function stopOnSignals(log: Logger, stop: () => Promise<void>, exitCode: number): void {
  let stopping = false;
  const onSignal = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: handing over leadership and stopping`);
    void stop().then(() => process.exit(exitCode));
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}
