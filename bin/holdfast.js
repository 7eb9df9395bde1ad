#!/usr/bin/env node
// The `holdfast` command. Runs the build (dist/, from `npm run build`) when it is at least as new
// as every source file, else the TypeScript sources through tsx, so `npx holdfast` works in a
// fresh checkout and never runs a build older than the code beside it. An installed package
// would ship the build (its files all carry one mtime, so the build counts as current).
// HOLDFAST_USE_BUILD=1 always runs the build, HOLDFAST_USE_BUILD=0 always the sources.
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "src", "cli", "main.js");
const sources = join(root, "src");
const sourceMain = join(sources, "cli", "main.ts");
const failureExitCode = 1;

/** The newest modification time (ms) of the TypeScript sources the build compiles; 0 without sources. */
function newestSourceMs(directory) {
  if (!existsSync(directory)) return 0;
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function buildIsCurrent() {
  return existsSync(built) && statSync(built).mtimeMs >= newestSourceMs(sources);
}

function fail(message) {
  process.stderr.write(`holdfast: ${message}\n`);
  process.exit(failureExitCode);
}

async function runSources() {
  if (!existsSync(sourceMain)) fail(`no sources at ${sourceMain} and no build at ${built}: run \`npm run build\` in a checkout`);
  try {
    // tsx's loader, registered in this process: the command keeps one PID, as signals expect.
    await import("tsx");
  } catch (error) {
    fail(`running the sources needs tsx (a dev dependency: \`npm ci\`), or run \`npm run build\` first: ${error.message}`);
  }
  await import(pathToFileURL(sourceMain).href);
}

const choice = process.env.HOLDFAST_USE_BUILD;
if (choice === "1") {
  if (!existsSync(built)) fail(`HOLDFAST_USE_BUILD=1 but there is no build at ${built}: run \`npm run build\` first`);
  await import(pathToFileURL(built).href);
} else if (choice !== "0" && buildIsCurrent()) {
  await import(pathToFileURL(built).href);
} else {
  await runSources();
}
