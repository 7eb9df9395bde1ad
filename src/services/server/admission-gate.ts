import type { Socket } from "node:net";
import { FramedConnection } from "../../adapters/node/framed-connection.js";
import type { Logger } from "../../adapters/node/logger.js";
import { RefusalLog } from "../../adapters/node/refusal-log.js";
import { limits } from "../../kernel/limits.js";
import { encodeFrame } from "../../wire/frame.js";
import { encodeSessionMessage, type ErrorCode } from "../../wire/session-codec.js";

/** What a session asks of the gate while it is not yet welcomed (see Session.hello). */
export interface SessionAdmission {
  /** Null when the server takes one more session now; else why not. Asked before and after the password check. */
  refusal(): { readonly code: ErrorCode; readonly message: string } | null;
  /** The hello succeeded: the connection leaves the unauthenticated count, its deadline ends, its frames may be large. */
  welcomed(): void;
  /** A hello was refused: logged, rate-limited and summarised. */
  refused(code: ErrorCode, message: string): void;
}

export interface AdmissionGateOptions {
  readonly log: Logger;
  /** Sessions the server holds now (welcomed connections). */
  readonly sessions: () => number;
}

export interface AdmissionStatus {
  /** Client connections accepted and not yet welcomed. */
  readonly unauthenticated: number;
}

interface Pending {
  readonly address: string;
  readonly timer: NodeJS.Timeout;
}

/**
 * The client port's door: a connection is unauthenticated from accept until its welcome, and
 * while it is it may hold little. It counts against unauthenticatedConnectionsMax (server-wide,
 * apart from the sessionsPerServerMax welcomed sessions) and against
 * unauthenticatedConnectionsPerAddressMax for its address; it takes frames of at most
 * unauthenticatedFrameBytesMax; and it is closed with `hello-timeout` helloDeadlineMs after
 * accept. Every refusal is a `closing` frame with a typed code, then the close, and a line
 * in the log (the first of a kind at once, the rest summarised per interval).
 */
export class AdmissionGate {
  private readonly pending = new Map<FramedConnection, Pending>();
  private readonly perAddress = new Map<string, number>();
  private readonly refusals: RefusalLog;

  constructor(private readonly options: AdmissionGateOptions) {
    this.refusals = new RefusalLog({ what: "client connections", warn: (message) => options.log.warn(message) });
  }

  status(): AdmissionStatus {
    return { unauthenticated: this.pending.size };
  }

  /**
   * A socket just accepted: its connection and what its session asks of the gate, or null
   * when it was refused (it has been told why and is closing). `onWelcome` runs at the welcome.
   */
  admit(socket: Socket, onWelcome: () => void): { readonly connection: FramedConnection; readonly admission: SessionAdmission } | null {
    const connection = new FramedConnection(socket, limits.unauthenticatedFrameBytesMax);
    const address = connection.remoteAddress;
    connection.setFarewell((error) => [closingFrame(error.kind, error.message)]);
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= limits.unauthenticatedConnectionsPerAddressMax) {
      const perAddressMax = limits.unauthenticatedConnectionsPerAddressMax;
      this.refuse(connection, "too-many-connections", `${fromAddress} connections from ${address} have not said hello yet (at most ${perAddressMax} per address); try again once they did`);
      return null;
    }
    if (this.pending.size >= limits.unauthenticatedConnectionsMax) {
      const why = `this server has ${this.pending.size} connections that have not said hello yet (at most ${limits.unauthenticatedConnectionsMax})`;
      this.refuse(connection, "too-many-connections", `${why}; try again shortly or another server`);
      return null;
    }
    const timer = setTimeout(() => {
      const why = `no welcome within ${limits.helloDeadlineMs} ms of connecting`;
      this.refuse(connection, "hello-timeout", `${why} (say hello at once; or the password check did not finish in time)`);
    }, limits.helloDeadlineMs);
    this.pending.set(connection, { address, timer });
    this.perAddress.set(address, fromAddress + 1);
    connection.onClose(() => this.leave(connection));
    const admission: SessionAdmission = {
      refusal: () => {
        const sessions = this.options.sessions();
        if (sessions < limits.sessionsPerServerMax) return null;
        const message = `this server holds ${sessions} sessions (at most ${limits.sessionsPerServerMax}); try another server or later`;
        return { code: "too-many-sessions", message };
      },
      welcomed: () => {
        if (connection.closed || !this.pending.has(connection)) return;
        this.leave(connection);
        connection.raiseFrameBytesMax(limits.frameBytesMax);
        onWelcome();
      },
      refused: (code, message) => this.refusals.refused(address, code, message),
    };
    return { connection, admission };
  }

  /** Closes every connection not yet welcomed (the server is stopping). */
  stop(): void {
    for (const connection of [...this.pending.keys()]) connection.closeWith([closingFrame("not-serving", "server stopping")], "server stopping");
    this.refusals.stop();
  }

  private refuse(connection: FramedConnection, code: ErrorCode, message: string): void {
    this.refusals.refused(connection.remoteAddress, code, message);
    connection.closeWith([closingFrame(code, message)], message);
  }

  private leave(connection: FramedConnection): void {
    const pending = this.pending.get(connection);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.pending.delete(connection);
    const left = (this.perAddress.get(pending.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(pending.address, left);
    else this.perAddress.delete(pending.address);
  }
}

function closingFrame(code: ErrorCode, reason: string): Uint8Array {
  return encodeFrame(encodeSessionMessage({ type: "closing", code, reason }));
}
