import type { Command } from "commander";
import { connect, type Connection } from "../client/client.js";
import { HoldfastError } from "../client/errors.js";
import { exitCodes, loadRealmOrExit, serverAddresses } from "./realm-file.js";
import { messageFromJson, messageToJson } from "./message-json.js";

interface ClientOptions {
  readonly realm?: string;
  readonly servers?: string;
  readonly app: string;
  readonly user: string;
  readonly password?: string;
}

/** The options every client command shares. */
export function clientOptions(command: Command): Command {
  return command
    .option("--realm <file>", "realm definition: connect to any of its servers")
    .option("--servers <list>", "comma-separated host:port client addresses (instead of --realm)")
    .requiredOption("--app <name>", "the application (from the realm definition)")
    .requiredOption("--user <name>", "user name")
    .option("--password <password>", "password (default: the HOLDFAST_PASSWORD environment variable)");
}

export async function connectFromOptions(options: ClientOptions): Promise<Connection> {
  const servers = options.servers ? options.servers.split(",").filter(Boolean) : options.realm ? serverAddresses(await loadRealmOrExit(options.realm)) : [];
  if (servers.length === 0) fail(exitCodes.usage, "give --realm <file> or --servers host:port,...");
  const password = options.password ?? process.env.HOLDFAST_PASSWORD;
  if (password === undefined) fail(exitCodes.usage, "give --password or set HOLDFAST_PASSWORD");
  try {
    return await connect({ servers, app: options.app, user: options.user, password, clientName: `cli-${process.pid}` });
  } catch (error) {
    fail(error instanceof HoldfastError && (error.code === "unauthenticated" || error.code === "forbidden") ? exitCodes.refused : exitCodes.failure, (error as Error).message);
  }
}

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

export function registerClientCommands(program: Command): void {
  clientOptions(program.command("pub"))
    .description("publish messages to an endpoint (confirm mode) and print each confirm; exit 5 when refused")
    .requiredOption("--endpoint <name>", "the endpoint (its store)")
    .option("--count <n>", "publish the message this many times, with an int field `n` = 1, 2, …", (v) => Number(v), 1)
    .argument("<json>", 'the message as a JSON object, e.g. \'{"subject":"ORDERS.EU.new","id":42,"price":9.5}\'')
    .action(async (json: string, options: ClientOptions & { endpoint: string; count: number }) => {
      let base;
      try {
        base = messageFromJson(json);
      } catch (error) {
        fail(exitCodes.usage, (error as Error).message);
      }
      if (!Number.isSafeInteger(options.count) || options.count < 1) fail(exitCodes.usage, `--count: expected an integer >= 1, got ${options.count}`);
      const connection = await connectFromOptions(options);
      const publisher = connection.publisher(options.endpoint);
      let failed = 0;
      const confirms = [];
      for (let n = 1; n <= options.count; n++) {
        const fields = new Map(base);
        if (options.count > 1) fields.set("n", { type: "int", value: BigInt(n) });
        confirms.push(
          publisher.publish(fields).then(
            (confirm) => process.stdout.write(`${confirm.duplicate ? "duplicate" : "stored"} as ${options.endpoint} sequence ${confirm.storeSequence} (${confirm.ackPoint})\n`),
            (error: Error) => {
              failed += 1;
              process.stderr.write(`refused: ${error.message}\n`);
            },
          ),
        );
      }
      await Promise.all(confirms);
      connection.close();
      process.exit(failed > 0 ? exitCodes.refused : exitCodes.ok);
    });

  clientOptions(program.command("sub"))
    .description("consume a durable and print each message as one JSON line (acks each after printing)")
    .requiredOption("--endpoint <name>", "the endpoint (its store)")
    .requiredOption("--durable <name>", "a static durable, or a new dynamic one from the store's template")
    .option("--type <type>", "standard, shared or last-value (checked)")
    .option("--template <name>", "template for a new dynamic durable")
    .option("--matcher <json>", 'for a new dynamic durable, e.g. \'{"subject":"ORDERS.>"}\'')
    .option("--count <n>", "exit after this many messages", (v) => Number(v))
    .option("--ack <mode>", "sync or async", "sync")
    .action(async (options: ClientOptions & { endpoint: string; durable: string; type?: string; template?: string; matcher?: string; count?: number; ack: string }) => {
      if (options.type !== undefined && !["standard", "shared", "last-value"].includes(options.type)) fail(exitCodes.usage, `--type: expected standard, shared or last-value, got ${options.type}`);
      if (options.ack !== "sync" && options.ack !== "async") fail(exitCodes.usage, `--ack: expected sync or async, got ${options.ack}`);
      let matcher: unknown;
      if (options.matcher !== undefined) {
        try {
          matcher = JSON.parse(options.matcher);
        } catch {
          fail(exitCodes.usage, "--matcher: expected a JSON object");
        }
      }
      const connection = await connectFromOptions(options);
      let received = 0;
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => (done = resolve));
      try {
        await connection.subscribe(
          options.endpoint,
          {
            durable: options.durable,
            ack: options.ack,
            ...(options.type ? { type: options.type as "standard" } : {}),
            ...(options.template ? { template: options.template } : {}),
            ...(matcher ? { matcher: matcher as object } : {}),
          },
          async (delivered) => {
            process.stdout.write(`${JSON.stringify({ storeSequence: delivered.storeSequence, deliveryCount: delivered.deliveryCount, ...(delivered.key === undefined ? {} : { key: delivered.key }), message: messageToJson(delivered.message) })}\n`);
            if (delivered.key === undefined) await delivered.ack();
            received += 1;
            if (options.count !== undefined && received >= options.count) done();
          },
        );
      } catch (error) {
        fail(exitCodes.refused, (error as Error).message);
      }
      process.on("SIGINT", done);
      process.on("SIGTERM", done);
      await finished;
      connection.close();
      process.exit(exitCodes.ok);
    });
}
