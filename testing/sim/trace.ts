import type { Message } from "../../src/protocols/consensus/messages.js";

/**
 * What happened, for a human: "time member event". Always keeps the last `keep` lines (cheap:
 * messages are formatted only when printed); with `full` it keeps everything (replay mode).
 */
interface TraceLine {
  timeMs: number;
  member: string;
  text: string | null;
  message: Message | null;
}

export class Trace {
  private readonly ring: TraceLine[] = [];
  private next = 0;
  private readonly all: TraceLine[] | null;

  constructor(private readonly keep: number, full: boolean, private readonly echo: ((line: string) => void) | null = null) {
    this.all = full ? [] : null;
  }

  event(timeMs: number, member: string, text: string): void {
    this.add({ timeMs, member, text, message: null });
  }

  message(timeMs: number, member: string, message: Message): void {
    this.add({ timeMs, member, text: null, message });
  }

  /** The last `count` lines, oldest first. */
  tail(count = this.keep): string[] {
    const lines: TraceLine[] = [];
    const size = Math.min(this.ring.length, this.keep);
    for (let i = 0; i < size; i++) {
      const line = this.ring[(this.next + i) % size];
      if (line !== undefined) lines.push(line);
    }
    return lines.slice(-count).map(format);
  }

  /** Every line (replay mode only). */
  lines(): string[] {
    return (this.all ?? []).map(format);
  }

  private add(line: TraceLine): void {
    if (this.ring.length < this.keep) this.ring.push(line);
    else this.ring[this.next] = line;
    this.next = (this.next + 1) % this.keep;
    this.all?.push(line);
    if (this.echo !== null) this.echo(format(line));
  }
}

function format(line: TraceLine): string {
  const text = line.text ?? describeMessage(line.message as Message);
  return `${String(line.timeMs).padStart(8)}ms ${line.member.padEnd(4)} ${text}`;
}

export function describeMessage(message: Message): string {
  const head = `send ${message.type} ${message.from}->${message.to} t${message.term}`;
  switch (message.type) {
    case "pre-vote":
    case "vote":
      return `${head} last=${message.lastIndex}/t${message.lastTerm}${message.empty ? " empty" : ""}`;
    case "pre-vote-response":
    case "vote-response":
      return `${head} ${message.granted ? "granted" : "denied"}${message.empty ? " empty" : ""}`;
    case "append": {
      const first = message.entries[0];
      const range = first === undefined ? "heartbeat" : `entries ${first.index}..${first.index + message.entries.length - 1}`;
      return `${head} prev=${message.prevIndex}/t${message.prevTerm} ${range} commit=${message.commitIndex}`;
    }
    case "append-response":
      return `${head} ${message.success ? `ok match=${message.matchIndex}` : `reject hint=${message.rejectHint}`}${message.empty ? " empty" : ""}`;
    case "append-received":
      return `${head} received=${message.matchIndex}`;
    case "install-snapshot":
      return `${head} snapshot=${message.snapshot.index}/t${message.snapshot.term} bytes ${message.offset}+${message.snapshot.data.length}${message.done ? " done" : ""}`;
    case "install-snapshot-response":
      return message.done ? `${head} match=${message.matchIndex}` : `${head} holds ${message.receivedBytes} bytes of snapshot ${message.snapshotIndex}`;
    case "timeout-now":
      return head;
  }
}
