import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parseRealmDefinition } from "../realm/load.js";
import { formatRealmErrors, notListedLine } from "../realm/realm-error.js";
import { exitCodes } from "./realm-file.js";
import { table } from "./realm-status.js";

/** `holdfast admin …`: the realm service's REST API (issue 5) from the command line. */
export function registerAdminCommands(program: Command): void {
  const admin = program.command("admin").description("realm administration through a server's admin port: deploy, status, clients, revisions");

  admin
    .command("deploy")
    .description("deploy a realm definition on the primary: validate, diff, test every client, write, activate, archive")
    .argument("[file]", "the realm definition (YAML); omit with --revision")
    .requiredOption("--server <host:port>", "the primary's admin port")
    .option("--dry-run", "validate, show the diff and the clients' test answers; change nothing", false)
    .option("--force", "deploy even if some clients cannot take it (they are left needing a restart)", false)
    .option("--revision <n>", "deploy a kept earlier revision again (a rollback; it gets a new number)")
    .option("--user <name>", "a user with the admin action", "admin")
    .addHelpText("after", "\nThe password comes from HOLDFAST_PASSWORD. Exit codes: 0 deployed (or dry run passed), 2 invalid definition, 5 refused (not the primary, backup down, clients cannot take it).")
    .action(async (file: string | undefined, options: { server: string; dryRun: boolean; force: boolean; revision?: string; user: string }) => {
      let body: Record<string, unknown>;
      if (options.revision !== undefined) {
        body = { revision: Number(options.revision), dryRun: options.dryRun, force: options.force };
      } else {
        if (file === undefined) return usage("admin deploy: name a realm definition file, or --revision <n>");
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (error) {
          return usage(`cannot read ${file}: ${(error as Error).message}`);
        }
        // Checked here too, so a wrong file is refused before anything is sent (and offline).
        const parsed = parseRealmDefinition(text, file);
        if (!parsed.ok) {
          const lines = formatRealmErrors(parsed.errors, parsed.errorsNotListed).map((line) => `  ${line}`);
          process.stderr.write(`realm definition ${file} is invalid; nothing was deployed:\n${lines.join("\n")}\n`);
          process.exit(exitCodes.usage);
        }
        body = { text, dryRun: options.dryRun, force: options.force };
      }
      const password = process.env.HOLDFAST_PASSWORD ?? "";
      const response = await call(options.server, "POST", "/api/v1/realm/deployments", body, `${options.user}:${password}`);
      const outcome = response.body as DeployOutcomeJson;
      process.stdout.write(deployReport(outcome));
      if (outcome.ok) process.exit(exitCodes.ok);
      process.exit(outcome.code === "invalid" ? exitCodes.usage : exitCodes.refused);
    });

  admin
    .command("status")
    .description("each affiliated realm server as this server sees it: role, site, revision, link state")
    .requiredOption("--server <host:port>", "any server's admin port")
    .option("--json", "print the JSON", false)
    .action(async (options: { server: string; json: boolean }) => {
      const response = await call(options.server, "GET", "/api/v1/realm");
      if (response.status !== 200 || options.json) return printAndExit(response);
      const view = response.body as RealmViewJson;
      const lines = [
        `${view.server} (${view.role}, site ${view.site}): revision ${view.revision?.number ?? "none"}, ${view.serving ? "serving clients" : "not serving clients"}${view.accepting ? "" : ", not accepting new revisions"}${view.stopped ? `, STOPPED: ${view.stopped}` : ""}; primary ${view.primary}`,
        table(["server", "role", "site", "revision", "link", "serving"], view.servers.map((server) => [server.server, server.role, server.site, String(server.revision ?? "-"), server.link, server.serving === null ? "-" : server.serving ? "yes" : "no"])),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  admin
    .command("clients")
    .description("this server's clients with the revision each took and its status (running, needs-restart, timed-out, exception, out-of-sync)")
    .requiredOption("--server <host:port>", "a server's admin port")
    .option("--json", "print the JSON", false)
    .action(async (options: { server: string; json: boolean }) => {
      const response = await call(options.server, "GET", "/api/v1/realm/clients");
      if (response.status !== 200 || options.json) return printAndExit(response);
      const { server, clients } = response.body as { server: string; clients: ClientJson[] };
      process.stdout.write(`${server}: ${clients.length} clients\n${table(["client id", "name", "user", "app", "revision", "status", "detail"], clients.map((client) => [client.clientId, client.client, client.user, client.app, String(client.revision), client.status, client.detail]))}\n`);
    });

  admin
    .command("revisions")
    .description("the revisions this server keeps (deploy one again with admin deploy --revision <n>)")
    .requiredOption("--server <host:port>", "a server's admin port")
    .action(async (options: { server: string }) => {
      const response = await call(options.server, "GET", "/api/v1/realm/revisions");
      if (response.status !== 200) return printAndExit(response);
      const { revisions } = response.body as { revisions: { number: number; hash: string }[] };
      process.stdout.write(`${table(["revision", "hash"], revisions.map((revision) => [String(revision.number), revision.hash]))}\n`);
    });
}

interface ClientJson {
  clientId: string;
  client: string;
  user: string;
  app: string;
  revision: number;
  status: string;
  detail: string;
}

interface RealmViewJson {
  server: string;
  role: string;
  site: string;
  primary: string;
  revision: { number: number } | null;
  serving: boolean;
  accepting: boolean;
  stopped: string | null;
  servers: { server: string; role: string; site: string; link: string; revision: number | null; serving: boolean | null }[];
}

interface DeployOutcomeJson {
  ok: boolean;
  code?: string;
  message?: string;
  errors?: string[];
  errorsNotListed?: number;
  dryRun?: boolean;
  unchanged?: boolean;
  revision?: { number: number; hash: string };
  diff?: { added: number; removed: number; lines: string[] };
  servers?: { server: string; role: string; link: string; revision: number | null; test?: string | null; clients?: { clientId: string; user: string; app: string; status: string; detail: string }[] }[];
  clients?: { clientId: string; user: string; app: string; status: string; detail: string }[];
  backupHolds?: boolean | null;
}

function deployReport(outcome: DeployOutcomeJson): string {
  const out: string[] = [];
  if (!outcome.ok) {
    out.push(`deploy refused (${outcome.code ?? "?"}): ${outcome.message ?? ""}`);
    for (const error of outcome.errors ?? []) out.push(`  ${error}`);
    if ((outcome.errorsNotListed ?? 0) > 0) out.push(`  ${notListedLine(outcome.errorsNotListed ?? 0)}`);
  } else if (outcome.unchanged) {
    out.push(`unchanged: revision ${outcome.revision?.number ?? "?"} is already this definition`);
  } else {
    out.push(outcome.dryRun ? `dry run: would deploy revision ${outcome.revision?.number ?? "?"} (${outcome.revision?.hash ?? "?"}); nothing changed` : `deployed revision ${outcome.revision?.number ?? "?"} (${outcome.revision?.hash ?? "?"})${outcome.backupHolds === false ? "; the backup does not hold it yet" : outcome.backupHolds ? "; the backup holds it" : ""}`);
  }
  if (outcome.diff) {
    out.push(`diff: +${outcome.diff.added} -${outcome.diff.removed} lines`);
    out.push(...outcome.diff.lines.map((line) => `  ${line}`));
  }
  const clientList = (clients: NonNullable<DeployOutcomeJson["clients"]>): string => `${clients.length}${clients.length === 0 ? "" : `: ${clients.map((client) => `${client.clientId} (${client.user}/${client.app}) ${client.status}${client.detail ? ` (${client.detail})` : ""}`).join("; ")}`}`;
  if (outcome.servers && outcome.servers.length > 0) {
    out.push("affiliated servers:");
    for (const server of outcome.servers) {
      const test = server.test === "answered" ? `; clients ${clientList(server.clients ?? [])}` : server.test ? `; test: ${server.test}` : "";
      out.push(`  ${server.server} (${server.role}) link ${server.link}, revision ${server.revision ?? "-"}${test}`);
    }
  }
  if (outcome.clients) out.push(`clients: ${clientList(outcome.clients)}`);
  return `${out.join("\n")}\n`;
}

async function call(server: string, method: string, path: string, body?: unknown, basic?: string): Promise<{ status: number; body: unknown }> {
  try {
    const response = await fetch(`http://${server}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(basic === undefined ? {} : { authorization: `Basic ${Buffer.from(basic).toString("base64")}` }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      // A deploy waits for its clients and may queue behind others (at most 4, about 10 s each).
      signal: AbortSignal.timeout(120_000),
    });
    return { status: response.status, body: await response.json() };
  } catch (error) {
    process.stderr.write(`cannot reach the admin port ${server}: ${(error as Error).message}\n`);
    process.exit(exitCodes.failure);
  }
}

function printAndExit(response: { status: number; body: unknown }): void {
  process.stdout.write(`${JSON.stringify(response.body, null, 2)}\n`);
  if (response.status >= 400) process.exit(response.status === 404 ? exitCodes.usage : exitCodes.refused);
}

function usage(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(exitCodes.usage);
}
