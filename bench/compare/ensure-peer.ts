import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** Exit code for "the peer cannot be installed" (usage/environment, as the CLI's code 2). */
export const peerMissingExitCode = 2;

function natsServerVersion(): string | null {
  const result = spawnSync("nats-server", ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}

function run(command: string, args: readonly string[]): boolean {
  process.stderr.write(`bench:compare: ${command} ${args.join(" ")}\n`);
  return spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"] }).status === 0;
}

function fail(message: string): never {
  process.stderr.write(`bench:compare: ${message}\n`);
  process.exit(peerMissingExitCode);
}

/**
 * Debian's nats-server (apt-get, as root) and the `nats` npm client (a dev dependency, so
 * normally there after `npm ci`). Installs what is missing; exits 2 with a clear message when
 * it cannot. Returns the nats-server version line.
 */
export function ensurePeer(): { natsServer: string; natsClient: string } {
  let version = natsServerVersion();
  if (version === null) {
    process.stderr.write("bench:compare: nats-server not found; installing Debian's package\n");
    const installed = run("apt-get", ["install", "-y", "nats-server"]) || (run("apt-get", ["update"]) && run("apt-get", ["install", "-y", "nats-server"]));
    version = installed ? natsServerVersion() : null;
    if (version === null) fail("could not install nats-server with apt-get (needs root and Debian's package lists); install it by hand (`apt-get install -y nats-server`) and run again");
  }
  const require = createRequire(import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { devDependencies?: Record<string, string> };
  const wanted = manifest.devDependencies?.nats ?? "2";
  const clientVersion = (): string | null => {
    try {
      return (JSON.parse(readFileSync(require.resolve("nats/package.json"), "utf8")) as { version: string }).version;
    } catch {
      return null;
    }
  };
  let natsClient = clientVersion();
  if (natsClient === null) {
    // A dev dependency: `npm ci` installs it; --no-save leaves package.json and the lock alone.
    if (!run("npm", ["install", "--no-save", `nats@${wanted}`])) fail(`could not install the nats npm client (nats@${wanted}); run \`npm ci\` and try again`);
    natsClient = clientVersion() ?? fail("the nats npm client is still missing after npm install");
  }
  return { natsServer: version, natsClient };
}
