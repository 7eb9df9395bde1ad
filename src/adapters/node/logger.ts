import pino, { type DestinationStream } from "pino";

/**
 * What a log line may say besides its message, so a reader can filter one server's, service's
 * or store's lines without parsing text. A closed set: one name per thing across the code, and
 * never pino's own keys (level, time, msg), which a field of that name would repeat.
 */
export interface LogFields {
  readonly server?: string;
  /** A persistence service (a consensus member of its cluster). */
  readonly service?: string;
  readonly cluster?: string;
  readonly store?: string;
  readonly term?: number;
  /** A consensus role: leader, follower, candidate, … */
  readonly role?: string;
  readonly leader?: string | null;
  /** The server's realm role: primary, backup, satellite, … */
  readonly realmRole?: string;
  readonly revision?: number;
  /** A member of a bare consensus cluster (`holdfast member`). */
  readonly member?: string;
}

/** Logging port: one line per event, with what happened and why, and fields saying where. */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose every line carries `fields` too (for one server, service, cluster, …). */
  child(fields: LogFields): Logger;
}

/** The levels `--log-level` and HOLDFAST_LOG_LEVEL accept: each shows itself and those after it. */
export const logLevels = ["info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export interface JsonLoggerOptions {
  readonly level: LogLevel;
  readonly fields?: LogFields;
  /** Where the lines go; default stderr, written synchronously so a line before an exit is never lost. */
  readonly destination?: DestinationStream;
}

/**
 * JSON lines through pino, one object per event: `level` (its name), `time` (ISO 8601), `pid`,
 * `hostname`, the fields, and `msg`. Several processes can share a file or a terminal, and
 * `pino-pretty` (or the demo) turns them back into readable lines.
 */
export function jsonLogger(options: JsonLoggerOptions): Logger {
  const root = pino(
    {
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  return wrap(options.fields === undefined ? root : root.child(options.fields));
}

function wrap(instance: pino.Logger): Logger {
  return {
    info: (message, fields) => (fields === undefined ? instance.info(message) : instance.info(fields, message)),
    warn: (message, fields) => (fields === undefined ? instance.warn(message) : instance.warn(fields, message)),
    error: (message, fields) => (fields === undefined ? instance.error(message) : instance.error(fields, message)),
    child: (fields) => wrap(instance.child(fields)),
  };
}

/** For tests and in-process servers whose lines nobody reads. */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {}, child: () => silentLogger };
