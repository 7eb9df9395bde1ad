import type { ConnectOptions } from "holdfast";

/**
 * Where the examples connect: the demo realm of `npm start` unless HOLDFAST_SERVERS (comma-
 * separated host:port), HOLDFAST_USER and HOLDFAST_PASSWORD say otherwise.
 */
export function demoConnectOptions(): ConnectOptions {
  return {
    servers: (process.env.HOLDFAST_SERVERS ?? "127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403").split(","),
    app: process.env.HOLDFAST_APP ?? "demo",
    user: process.env.HOLDFAST_USER ?? "demo",
    password: process.env.HOLDFAST_PASSWORD ?? "demo-password",
  };
}

/** True when the module is run directly (`npx tsx examples/x.ts`), not imported by a test. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url.endsWith(process.argv[1].replace(/^.*examples\//, "examples/"));
}
