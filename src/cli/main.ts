import { Command, InvalidArgumentError } from "commander";
import { startLocalCluster } from "./start.js";
import { jsonLogger, type LogLevel } from "../adapters/node/logger.js";
import { ClusterClient } from "../client/cluster-client.js";
import { ClusterFileError, readClusterFile, type ClusterFile } from "../services/member/cluster-file.js";
import { startMember } from "../services/member/member.js";
import { collectStatus, statusTable } from "./status-table.js";
import { registerClientCommands } from "./client-commands.js";
import { runDemo } from "./demo.js";
import { collectRealmStatus, everyClusterHasLeader, realmStatusText } from "./realm-status.js";
import { exitCodes, loadRealmOrExit } from "./realm-file.js";
import { registerServerCommand } from "./server-command.js";
import { registerAdminCommands } from "./admin-commands.js";
import { logLevelOption } from "./log-level-option.js";
import { stopOnSignals } from "./terminal.js";

const program = new Command()
  .name("holdfast")
  .description("Holdfast: fault-tolerant messaging and high availability")
  .showHelpAfterError()
  .addHelpText("after", "\nExit codes: 0 ok, 1 failure, 2 usage or invalid file, 3 no leader, 4 disk failure, 5 refused by the server.")
  .exitOverride((error) => process.exit(error.exitCode === 0 ? exitCodes.ok : exitCodes.usage));

program
  .command("demo")
  .description("run the demo realm: 3 server processes on loopback, one 3-service persistence cluster, a sample workload and a live status table, until Ctrl-C")
  .option("--dir <path>", "where the demo keeps its data", ".holdfast/demo")
  .option("--fresh", "delete the data directory first", false)
  .addOption(logLevelOption())
  .addHelpText("after", "\nThe servers' JSON log lines are kept in <dir>/<server>.log; the screen shows the last few, readable.")
  .action(async (options: { dir: string; fresh: boolean; logLevel: LogLevel }) => {
    await runDemo(options);
  });

registerServerCommand(program);
registerClientCommands(program);
registerAdminCommands(program);

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
  .command("consensus-demo")
  .description("run a bare 3-member consensus cluster (no persistence service) on loopback with a live status table until Ctrl-C")
  .option("--dir <path>", "where the cluster keeps its data", ".holdfast/consensus-demo")
  .option("--base-port <port>", "members use ports base+1.. (peers) and base+11.. (clients)", integer, 7100)
  .option("--fresh", "delete the data directory first", false)
  .addOption(logLevelOption())
  .action(async (options: { dir: string; basePort: number; fresh: boolean; logLevel: LogLevel }) => {
    await startLocalCluster(options);
  });

program
  .command("member")
  .description("run one consensus member (one process per member)")
  .requiredOption("--cluster <file>", "cluster definition (JSON)")
  .requiredOption("--id <member>", "which member of the cluster this process is")
  .requiredOption("--data <dir>", "data directory for the write-ahead log")
  .option("--record-commands <count>", "keep this many applied commands for inspection", integer, 0)
  .addOption(logLevelOption())
  .action(async (options: { cluster: string; id: string; data: string; recordCommands: number; logLevel: LogLevel }) => {
    const cluster = loadCluster(options.cluster);
    const log = jsonLogger({ level: options.logLevel, fields: { cluster: cluster.name, member: options.id } });
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
    stopOnSignals(log, () => member.stop({ graceful: true }), exitCodes.ok);
  });

program
  .command("status")
  .description("per cluster: each service's role, term, history, consistency and leader; per store: messages, bytes; per durable: backlog. Exit 3 when a cluster has no leader")
  .option("--realm <file>", "realm definition: ask every server's admin port")
  .option("--cluster <file>", "a bare consensus cluster file (JSON) instead")
  .option("--json", "print JSON", false)
  .action(async (options: { realm?: string; cluster?: string; json: boolean }) => {
    if (options.realm !== undefined) {
      const realm = await loadRealmOrExit(options.realm);
      const rows = await collectRealmStatus(realm, 2000);
      process.stdout.write(options.json ? `${JSON.stringify(rows)}\n` : `${realmStatusText(realm, rows)}\n`);
      process.exit(everyClusterHasLeader(realm, rows) ? exitCodes.ok : exitCodes.noLeader);
    }
    if (options.cluster === undefined) {
      process.stderr.write("status: give --realm <file> (or --cluster <file> for a bare consensus cluster)\n");
      process.exit(exitCodes.usage);
    }
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
