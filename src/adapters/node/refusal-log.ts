import { limits } from "../../kernel/limits.js";

export interface RefusalLogOptions {
  /** What is refused, plural, for the lines: "client connections", "realm links". */
  readonly what: string;
  readonly warn: (message: string) => void;
  readonly intervalMs?: number;
  readonly addressesMax?: number;
}

interface Kind {
  total: number;
  readonly byAddress: Map<string, number>;
  /** Refusals from addresses past addressesMax, counted together. */
  others: number;
  detail: string;
}

/**
 * A count with thousands separated by commas, by hand: a process's first `toLocaleString`
 * sets up ICU's number formatting, about 20 ms of the event loop in the middle of an attack.
 */
const count = (value: number): string => String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/**
 * Refusals (of connections, logins, handshakes) logged without letting an attacker flood the
 * log: the first refusal of a kind (its code) is logged at once with its detail; the rest are
 * counted and summarised once per interval, one line per kind naming the busiest addresses:
 *
 *   refused 4,117 client connections in the last 10 s (too-many-connections): 127.0.0.2 4,100, 127.0.0.3 17
 *
 * A kind with no refusal in an interval is logged at once again the next time.
 */
export class RefusalLog {
  private readonly kinds = new Map<string, Kind>();
  private readonly intervalMs: number;
  private readonly addressesMax: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RefusalLogOptions) {
    this.intervalMs = options.intervalMs ?? limits.refusalLogIntervalMs;
    this.addressesMax = options.addressesMax ?? limits.refusalLogAddressesMax;
  }

  refused(address: string, code: string, detail: string): void {
    const kind = this.kinds.get(code);
    if (kind === undefined) {
      this.kinds.set(code, { total: 0, byAddress: new Map(), others: 0, detail });
      this.options.warn(`refused ${this.options.what} from ${address} (${code}): ${detail}; more of these are summarised every ${this.intervalMs / 1000} s`);
      this.startTimer();
      return;
    }
    kind.total += 1;
    kind.detail = detail;
    const seen = kind.byAddress.get(address);
    if (seen !== undefined) kind.byAddress.set(address, seen + 1);
    else if (kind.byAddress.size < this.addressesMax) kind.byAddress.set(address, 1);
    else kind.others += 1;
  }

  /** Logs what is counted now and stops the timer (the listener is closing). */
  stop(): void {
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private startTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }

  private flush(): void {
    for (const [code, kind] of this.kinds) {
      if (kind.total === 0) {
        this.kinds.delete(code);
        continue;
      }
      const addresses = [...kind.byAddress].sort((a, b) => b[1] - a[1]).map(([address, refused]) => `${address} ${count(refused)}`);
      if (kind.others > 0) addresses.push(`other addresses ${count(kind.others)}`);
      const what = `${count(kind.total)} ${this.options.what} in the last ${this.intervalMs / 1000} s (${code})`;
      this.options.warn(`refused ${what}: ${addresses.join(", ")}; last: ${kind.detail}`);
      this.kinds.set(code, { total: 0, byAddress: new Map(), others: 0, detail: kind.detail });
    }
    if (this.kinds.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
