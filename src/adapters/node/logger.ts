/** Logging port: one line per event, with what happened and why. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Lines on stderr, prefixed with time and the component, so several processes can share a terminal. */
export function stderrLogger(component: string): Logger {
  const line = (level: string, message: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} ${component}: ${message}\n`);
  };
  return {
    info: (message) => line("info", message),
    warn: (message) => line("warn", message),
    error: (message) => line("error", message),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
