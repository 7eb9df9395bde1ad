import { NodeClock } from "../../adapters/node/clock.js";
import { NodeFileSystem } from "../../adapters/node/file-system.js";
import type { Logger } from "../../adapters/node/logger.js";
import { TcpTransport } from "../../adapters/node/tcp-transport.js";
import { WalStorage } from "../../adapters/wal/wal-storage.js";
import { limits } from "../../kernel/limits.js";
import { Prng } from "../../kernel/prng.js";
import type { ForceQuorumReport, Notification } from "../../protocols/consensus/effects.js";
import { consensusOptions } from "../../protocols/consensus/options.js";
import type { MemberStatus } from "../../protocols/consensus/types.js";
import { Replica } from "../../runtime/replica.js";
import type { ClientRequest, ClientResponse } from "../../wire/client-codec.js";
import { ClientPort } from "./client-port.js";
import type { ClusterFile } from "./cluster-file.js";
import { CommandLog } from "./command-log.js";

export interface MemberOptions {
  readonly cluster: ClusterFile;
  readonly id: string;
  readonly dataDirectory: string;
  readonly log: Logger;
  /** Applied commands kept for inspection (tests and the demo); 0 keeps none. */
  readonly recordCommandsMax?: number;
  /** Called when the disk failed and the member stopped itself (fail-stop). */
  readonly onFailure?: (error: Error) => void;
}

export interface RunningMember {
  readonly id: string;
  readonly clientPort: number;
  readonly peerPort: number;
  status(): MemberStatus;
  /** Hand leadership over (if leading), then stop. */
  stop(options?: { graceful: boolean }): Promise<void>;
}

/**
 * One consensus member process: the write-ahead log on real files, TCP to the other members,
 * the Replica driving the protocol, the command log it replicates, and the client port.
 */
export async function startMember(options: MemberOptions): Promise<RunningMember> {
  const { cluster, id, log } = options;
  const self = cluster.members.find((member) => member.id === id);
  if (!self) throw new Error(`member "${id}" is not defined in cluster ${cluster.name} (defined: ${cluster.members.map((m) => m.id).join(", ")})`);

  const fileSystem = new NodeFileSystem(options.dataDirectory);
  const storage = new WalStorage(fileSystem, { logger: { warn: (message) => log.warn(message) } });
  const peers = Object.fromEntries(
    cluster.members.filter((member) => member.id !== id).map((member) => [member.id, { host: member.host, port: member.peerPort }]),
  );
  const transport = new TcpTransport({ selfId: id, listen: { host: self.host, port: self.peerPort }, peers, secret: cluster.secret, logger: log });
  await transport.start();

  const application = new CommandLog(options.recordCommandsMax ?? 0);
  let port: ClientPort | null = null;
  const waitingForceQuorum: ((result: ForceQuorumReport | string) => void)[] = [];
  let lastSnapshotIndex = 0;
  let snapshotScheduled = false;

  const notify = (notification: Notification): void => {
    port?.deliver(notification);
    if (notification.type === "role-changed") {
      log.info(`${notification.role} in term ${notification.term}${notification.leaderId ? ` (leader ${notification.leaderId})` : ""}`);
    } else if (notification.type === "force-quorum") {
      log.warn(`forced quorum: ${JSON.stringify(notification.report)}`);
      waitingForceQuorum.splice(0).forEach((resolve) => resolve(notification.report));
    } else if (notification.type === "membership-rejected") {
      log.warn(`refused: ${notification.reason}`);
      waitingForceQuorum.splice(0).forEach((resolve) => resolve(notification.reason));
    }
    if (!snapshotScheduled && application.appliedIndex - lastSnapshotIndex >= limits.snapshotEntriesInterval) {
      // Not from inside a notification: the replica is mid-drain.
      snapshotScheduled = true;
      setImmediate(() => {
        snapshotScheduled = false;
        if (replica.takeSnapshot()) lastSnapshotIndex = application.appliedIndex;
      });
    }
  };

  const replica = new Replica({
    consensus: consensusOptions(
      { id, definedMembers: cluster.members.map((member) => ({ id: member.id, weight: member.weight })), random: new Prng(Date.now() ^ process.pid) },
      cluster.timing,
    ),
    storage,
    transport,
    clock: new NodeClock(),
    application,
    notify,
    onFailure: (error) => {
      log.error(`disk failure, member stopped: ${error.message}`);
      port?.close();
      options.onFailure?.(error);
    },
  });
  if (replica.emptyReason) log.warn(`starting empty (${replica.emptyReason}): this member will not vote until it has caught up from the leader`);

  const handle = (request: Exclude<ClientRequest, { type: "propose" }>): ClientResponse | Promise<ClientResponse> => {
    switch (request.type) {
      case "status":
        return { type: "status", requestId: request.requestId, status: replica.status(), emptyReason: replica.emptyReason };
      case "applied": {
        const commands = application.commandsFrom(request.fromIndex, Math.min(request.countMax, limits.appliedPageCommandsMax));
        return { type: "applied", requestId: request.requestId, indexes: commands.map((c) => c.index), payloads: commands.map((c) => c.payload) };
      }
      case "transfer":
        replica.transferLeadership(request.to);
        return { type: "done", requestId: request.requestId, detail: "transfer requested" };
      case "force-quorum":
        return new Promise<ClientResponse>((resolve) => {
          waitingForceQuorum.push((result) =>
            resolve(
              typeof result === "string"
                ? { type: "error", requestId: request.requestId, message: result }
                : { type: "done", requestId: request.requestId, detail: JSON.stringify(result) },
            ),
          );
          replica.forceQuorum(request.reachable);
        });
    }
  };

  port = new ClientPort(
    { id, log, handle, propose: (ids, payloads) => replica.propose(ids.map((proposalId, at) => ({ proposalId, data: payloads[at] as Uint8Array }))) },
    cluster.secret,
  );
  const clientPort = await port.listen(self.host, self.clientPort);
  log.info(`member ${id} of ${cluster.name}: peers on ${self.host}:${transport.port}, clients on ${self.host}:${clientPort}, data in ${options.dataDirectory}`);

  return {
    id,
    clientPort,
    peerPort: transport.port,
    status: () => replica.status(),
    stop: async ({ graceful } = { graceful: true }) => {
      if (graceful && replica.status().role === "leader") {
        replica.transferLeadership(null);
        const deadline = Date.now() + limits.electionTimeoutMaxMs;
        while (Date.now() < deadline && replica.status().role === "leader") await new Promise((resolve) => setTimeout(resolve, 10));
      }
      port?.close();
      replica.stop();
      fileSystem.close();
    },
  };
}
