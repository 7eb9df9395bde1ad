/**
 * The worker thread that reads one realm definition (definition-reader.ts): it parses the text
 * it was given and posts the result back. Its heap is bounded by the thread's resource limits,
 * and everything it allocated goes when it ends.
 */
import { parentPort, workerData } from "node:worker_threads";
import { parseRealmDefinition } from "../../realm/load.js";

const { text, source } = workerData as { readonly text: string; readonly source: string };
parentPort?.postMessage(parseRealmDefinition(text, source));
