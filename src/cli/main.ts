import { Command, InvalidArgumentError } from "commander";
import { startLocalCluster } from "./start.js";
import { stderrLogger } from "../adapters/node/logger.js";
import { ClusterClient } from "../client/cluster-client.js";
import { ClusterFileError, readClusterFile, type ClusterFile } from "../services/member/cluster-file.js";
import { startMember } from "../services/member/member.js";
import { collectStatus, statusTable } from "./status-table.js";

/** Exit codes scripts can rely on. */
export const exitCodes = { ok: 0, failure: 1, usage: 2, noLeader: 3, diskFailure: 4 } as const;

const program = new Command()
  .name("holdfast")
  .description("Holdfast: fault-tolerant messaging and high availability")
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? exitCodes.ok : exitCodes.usage));

const integer = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return parsed;
};

function loadCluster(path: string): ClusterFile {
  try {
    return readClusterFile(path);
  } catch (error) {
    if (error instanceof ClusterFileError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(exitCodes.usage);
    }
    throw error;
  }
}

function clientFor(cluster: ClusterFile): ClusterClient {
  return new ClusterClient({ members: cluster.members, secret: cluster.secret, requestTimeoutMs: 5000 });
}

program
  .command("start")
  .description("run a local 3-member cluster of real processes on loopback and show its live status until Ctrl-C")
  .option("--dir <path>", "where the cluster keeps its data", ".holdfast/demo")
  .option("--base-port <port>", "members use ports base+1.. (peers) and base+11.. (clients)", integer, 7100)
  .option("--fresh", "delete the data directory first", false)
  .action(async (options: { dir: string; basePort: number; fresh: boolean }) => {
    await startLocalCluster(options);
  });

program
  .command("member")
  .description("run one consensus member (one process per member)")
  .requiredOption("--cluster <file>", "cluster definition (JSON)")
  .requiredOption("--id <member>", "which member of the cluster this process is")
  .requiredOption("--data <dir>", "data directory for the write-ahead log")
  .option("--record-commands <count>", "keep this many applied commands for inspection", integer, 0)
  .action(async (options: { cluster: string; id: string; data: string; recordCommands: number }) => {
    const cluster = loadCluster(options.cluster);
    const log = stderrLogger(`member ${options.id}`);
    let member: Awaited<ReturnType<typeof startMember>>;
    try {
      member = await startMember({
        cluster,
        id: options.id,
        dataDirectory: options.data,
        log,
        recordCommandsMax: options.recordCommands,
        onFailure: () => process.exit(exitCodes.diskFailure),
      });
    } catch (error) {
      log.error((error as Error).message);
      process.exit(exitCodes.failure);
    }
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: handing over leadership and stopping`);
      void member.stop({ graceful: true }).then(() => process.exit(exitCodes.ok));
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });

program
  .command("status")
  .description("show every member's role, term, commit index, history and consistency; exit 3 when no leader")
  .requiredOption("--cluster <file>", "cluster definition (JSON)")
  .option("--json", "one JSON object per member", false)
  .action(async (options: { cluster: string; json: boolean }) => {
    const cluster = loadCluster(options.cluster);
    const client = clientFor(cluster);
    const rows = await collectStatus(client, cluster.members.map((member) => member.id), 2000);
    client.close();
    process.stdout.write(options.json ? `${rows.map((row) => JSON.stringify(row)).join("\n")}\n` : `${statusTable(rows)}\n`);
    process.exit(rows.some((row) => row.status?.role === "leader") ? exitCodes.ok : exitCodes.noLeader);
  });

program
  .command("propose")
  .description("replicate one command through the cluster and print where it committed")
  .requiredOption("--cluster <file>", "cluster definition (JSON)")
  .argument("<text>", "the command")
  .action(async (text: string, options: { cluster: string }) => {
    const client = clientFor(loadCluster(options.cluster));
    try {
      const committed = await client.propose(new TextEncoder().encode(text));
      process.stdout.write(`committed at index ${committed.index} in term ${committed.term}\n`);
      client.close();
      process.exit(exitCodes.ok);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      client.close();
      process.exit(exitCodes.failure);
    }
  });

program
  .command("force-quorum")
  .description("UNSAFE: make a member lead with the given reachable members as voters; prints what may be lost")
  .requiredOption("--cluster <file>", "cluster definition (JSON)")
  .requiredOption("--member <id>", "the most up-to-date reachable member (see `status`)")
  .option("--reachable <ids>", "comma-separated other members that are up", "")
  .action(async (options: { cluster: string; member: string; reachable: string }) => {
    const client = clientFor(loadCluster(options.cluster));
    try {
      const report = await client.forceQuorum(options.member, options.reachable.split(",").filter(Boolean));
      process.stdout.write(`${report}\n`);
      process.stdout.write(
        "Bring the members left out back ONE AT A TIME, each once `status` shows the previous one\n" +
          "as a voter again. Left-out members that reach each other before the forced leader are\n" +
          "still a majority of the old configuration and could elect a second leader.\n",
      );
      client.close();
      process.exit(exitCodes.ok);
    } catch (error) {
      process.stderr.write(`force quorum refused: ${(error as Error).message}\n`);
      client.close();
      process.exit(exitCodes.failure);
    }
  });


await program.parseAsync(process.argv);
