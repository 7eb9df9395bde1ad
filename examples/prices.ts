/**
 * Last-value and map durables of the demo realm: publish prices, read the newest per symbol
 * from the map, and watch the last-value durable. Run `npm start` first, then:
 *   npx tsx examples/prices.ts
 */
import { connect, type ConnectOptions } from "holdfast";
import { demoConnectOptions, isMain } from "./connect-options.js";

export async function main(options: ConnectOptions): Promise<{ acme: number | undefined; seen: string[] }> {
  const connection = await connect(options);
  const prices = connection.publisher("prices-in");
  await prices.publish({ symbol: "ACME", price: 101.5 });
  await prices.publish({ symbol: "ACME", price: 102.25 });
  await prices.publish({ symbol: "GLOBEX", price: 55 });

  // A new last-value subscriber gets every current value at once, then updates.
  const seen: string[] = [];
  const latest = await connection.subscribe("prices-in", { durable: "latest-price", type: "last-value" }, (delivered) => {
    seen.push(`${delivered.key}`);
  });

  // The map durable keeps the newest message per symbol too, and can be written directly.
  const table = connection.map("prices-in", "price-table");
  await table.set("INITECH", { symbol: "INITECH", price: 7 });
  const acme = (await table.get("ACME"))?.get("price");
  for await (const [symbol, message] of table.entries()) console.log(symbol, message.get("price"));
  await table.remove("INITECH");

  await new Promise((resolve) => setTimeout(resolve, 300));
  await latest.close();
  connection.close();
  return { acme: acme?.type === "float" ? acme.value : undefined, seen };
}

if (isMain(import.meta.url)) console.log(await main(demoConnectOptions()));
