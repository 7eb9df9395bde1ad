import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { stderrLogger } from "../adapters/node/logger.js";
import { startServer, type RunningServer } from "../services/server/server.js";
import { exitCodes, loadRealmOrExit } from "./realm-file.js";
import { stopOnSignals } from "./terminal.js";

export function registerServerCommand(program: Command): void {
  program
    .command("server")
    .description("run one holdfast server: the bus, the client port, and the persistence services the realm assigns to it")
    .requiredOption("--realm <file>", "realm definition (YAML)")
    .requiredOption("--name <server>", "which server of the realm this process is")
    .option("--data <dir>", "data directory (one subdirectory per persistence service)", ".holdfast/data")
    .action(async (options: { realm: string; name: string; data: string }) => {
      const realm = await loadRealmOrExit(options.realm);
      const log = stderrLogger(`server ${options.name}`);
      let server: RunningServer;
      try {
        // The text too: a primary takes it as its first revision (issue 5).
        const realmText = readFileSync(options.realm, "utf8");
        server = await startServer({ realm, realmText, name: options.name, dataDirectory: options.data, log, onFailure: () => process.exit(exitCodes.diskFailure) });
      } catch (error) {
        log.error((error as Error).message);
        process.exit(exitCodes.failure);
      }
      stopOnSignals(log, () => server.stop({ graceful: true }), exitCodes.ok);
    });
}
