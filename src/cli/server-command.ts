import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { jsonLogger, type LogLevel } from "../adapters/node/logger.js";
import { startServer, type RunningServer } from "../services/server/server.js";
import { logLevelOption } from "./log-level-option.js";
import { exitCodes, loadRealmOrExit } from "./realm-file.js";
import { stopOnSignals } from "./terminal.js";

export function registerServerCommand(program: Command): void {
  program
    .command("server")
    .description("run one holdfast server: the bus, the client port, the admin port, and the persistence services and realm role the realm assigns to it")
    .requiredOption("--realm <file>", "realm definition (YAML)")
    .requiredOption("--name <server>", "which server of the realm this process is")
    .option("--data <dir>", "data directory (one subdirectory per persistence service)", ".holdfast/data")
    .addOption(logLevelOption())
    .addHelpText(
      "after",
      "\nLogs are JSON lines on stderr (read them with `npx pino-pretty`).\n" +
        "Exit codes: 0 stopped by SIGTERM or SIGINT, 1 failed to start, 2 invalid realm definition, 4 disk failure.",
    )
    .action(async (options: { realm: string; name: string; data: string; logLevel: LogLevel }) => {
      const realm = await loadRealmOrExit(options.realm);
      const root = jsonLogger({ level: options.logLevel });
      const log = root.child({ server: options.name });
      let server: RunningServer;
      try {
        // The text too: a primary with no revision yet takes it as its first.
        const realmText = readFileSync(options.realm, "utf8");
        const onFailure = (): never => process.exit(exitCodes.diskFailure);
        server = await startServer({ realm, realmText, name: options.name, dataDirectory: options.data, log: root, onFailure });
      } catch (error) {
        log.error((error as Error).message);
        process.exit(exitCodes.failure);
      }
      stopOnSignals(log, () => server.stop({ graceful: true }), exitCodes.ok);
    });
}
