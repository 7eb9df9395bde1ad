/**
 * The bus: a responder and a requester on one server (no persistence, at most once).
 * Run `npm start` first, then: npx tsx examples/request-reply.ts
 */
import { connect, type ConnectOptions } from "holdfast";
import { demoConnectOptions, isMain } from "./connect-options.js";

export async function main(options: ConnectOptions): Promise<string> {
  const connection = await connect(options);
  const responder = await connection.busSubscribe("time.*", (request) => {
    request.reply({ now: new Date().toISOString(), asked: request.subject });
  });
  const reply = await connection.request("time.utc", { question: "what time is it?" }, { timeoutMs: 2000 });
  const now = reply.message.get("now");
  responder.close();
  connection.close();
  return now?.type === "string" ? now.value : "";
}

if (isMain(import.meta.url)) console.log(await main(demoConnectOptions()));
