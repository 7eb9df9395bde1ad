import { prettyFactory } from "pino-pretty";

/**
 * One server's JSON log line as the demo's screen shows it: local time, level, the process it
 * came from, the message (`[12:04:31.207] WARN: s1: c1-a: follower in term 4`). The other fields
 * are left out: the messages name what they are about, and the screen is narrow. A line that is
 * not JSON (a crash's stack trace) is shown as it is.
 */
const pretty = prettyFactory({
  colorize: false,
  singleLine: true,
  hideObject: true,
  ignore: "pid,hostname",
  translateTime: "SYS:HH:MM:ss.l",
  messageFormat: (log, messageKey) => {
    const from = log.server ?? log.member;
    return `${typeof from === "string" ? `${from}: ` : ""}${String(log[messageKey] ?? "")}`;
  },
});

export function prettyLogLine(line: string): string {
  return pretty(line).trimEnd();
}

/** Split a chunk of a child's stderr into lines, each made readable. */
export function prettyLogLines(chunk: string): string[] {
  return chunk
    .trimEnd()
    .split("\n")
    .map((line) => prettyLogLine(line));
}
