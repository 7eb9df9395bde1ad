import { Worker } from "node:worker_threads";
import { limits } from "../../kernel/limits.js";
import type { RealmParseResult } from "../../realm/load.js";

/** From the sources (tsx, vitest) the worker is TypeScript too, and needs tsx's loader. */
const fromSources = import.meta.url.endsWith(".ts");
const workerUrl = new URL(fromSources ? "./definition-worker.ts" : "./definition-worker.js", import.meta.url);
/**
 * Node 20 does not apply `--import` to a worker's own execArgv: from the sources a small
 * bootstrap registers tsx's loader inside the worker, then loads the TypeScript worker.
 */
const sourcesBootstrap = `
const { workerData } = require("node:worker_threads");
import("tsx/esm/api").then(({ register }) => { register(); return import(workerData.workerUrl); });
`;

/**
 * Reads a realm definition a server was handed (a deploy, a test from upstream) in a worker
 * thread of its own: reading a large one takes the yaml library up to seconds of CPU and
 * hundreds of MiB (4 MB, the largest accepted: 4 s, 274 MiB), which on the event loop delayed
 * every confirm (bench adversarial, big-definition: p50 65 ms) and kept the memory after. In a
 * worker the event loop only receives the result, the heap is bounded (realmReadHeapMbMax) and
 * freed when it ends, and a read that takes too long is stopped (realmReadTimeoutMs).
 */
export function readDefinitionOffThread(text: string, source: string): Promise<RealmParseResult> {
  return new Promise((resolve) => {
    const resourceLimits = { maxOldGenerationSizeMb: limits.realmReadHeapMbMax };
    const worker = fromSources
      ? new Worker(sourcesBootstrap, { eval: true, workerData: { text, source, workerUrl: workerUrl.href }, resourceLimits })
      : new Worker(workerUrl, { workerData: { text, source }, resourceLimits });
    let settled = false;
    const settle = (result: RealmParseResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    const refuse = (found: string): RealmParseResult => ({
      ok: false,
      errors: [{ path: "", expected: `a definition this server can read within ${limits.realmReadHeapMbMax} MiB and ${limits.realmReadTimeoutMs / 1000} s`, found }],
      errorsNotListed: 0,
    });
    const timer = setTimeout(() => settle(refuse(`${source} still being read after ${limits.realmReadTimeoutMs / 1000} s`)), limits.realmReadTimeoutMs);
    worker.once("message", (result: RealmParseResult) => settle(result));
    worker.once("error", (error: Error) => settle(refuse(`${source} could not be read: ${error.message}`)));
    worker.once("exit", (code) => settle(refuse(`${source}: its reader stopped (exit code ${code})`)));
  });
}
