/**
 * Publish orders with confirms and consume them from the standard durable "billing" and the
 * shared durable "shipping" of the demo realm. Run `npm start` first, then:
 *   npx tsx examples/publish-and-consume.ts
 */
import { connect, type ConnectOptions } from "holdfast";
import { demoConnectOptions, isMain } from "./connect-options.js";

export async function main(options: ConnectOptions, count = 10): Promise<{ confirmed: number; billed: number; shipped: number }> {
  const connection = await connect(options);
  connection.on((event) => {
    if (event.type !== "error") console.log("connection event:", event);
  });

  // billing only keeps high-priority orders with a customer (its matcher is in the realm).
  let billed = 0;
  const billing = await connection.subscribe("orders-in", { durable: "billing", type: "standard", ack: "sync" }, async (delivered) => {
    billed += 1;
    await delivered.ack(); // resolves once the cluster recorded the ack: it will not come again
  });
  let shipped = 0;
  const shipping = await connection.subscribe("orders-in", { durable: "shipping", type: "shared", prefetch: 32 }, (delivered) => {
    shipped += 1;
    void delivered.ack(); // async (the default): batched, resolves at once
  });

  const publisher = connection.publisher("orders-in");
  const confirms = await Promise.all(
    Array.from({ length: count }, (_, n) =>
      publisher.publish({ subject: "ORDERS.EU.new", id: BigInt(n), priority: "high", customer: "ACME", price: 9.5 }),
    ),
  );
  console.log(`confirmed ${confirms.length}, last at store sequence ${confirms.at(-1)?.storeSequence} (${confirms.at(-1)?.ackPoint})`);

  const deadline = Date.now() + 10_000;
  while ((billed < count || shipped < count) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  console.log(`billing received ${billed}, shipping received ${shipped}`);
  await billing.close();
  await shipping.close();
  connection.close();
  return { confirmed: confirms.length, billed, shipped };
}

if (isMain(import.meta.url)) await main(demoConnectOptions());
