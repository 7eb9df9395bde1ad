/**
 * The link proxies' own process (started by LinkMesh, told what to do over IPC). Member
 * traffic must not wait on the harness's event loop: the workload, the history and the
 * checks there can hold it for hundreds of ms, which would look to the members like a slow
 * network and make leaders step down (check-quorum) for reasons no fault chose.
 *
 *   argv[2]: JSON [{ name, targetPort }]
 *   parent -> child: { id, names, state }   (set those links to `state`)
 *   child -> parent: { ready: { name: port } } once listening; { done: id } after each command
 */
import { LinkProxy, type LinkState } from "./link-proxy.js";

interface Command {
  readonly id: number;
  readonly names: readonly string[];
  readonly state: LinkState;
}

const links = JSON.parse(process.argv[2] ?? "[]") as { name: string; targetPort: number }[];
const proxies = new Map<string, LinkProxy>();
for (const link of links) proxies.set(link.name, await LinkProxy.start(link.name, link.targetPort));

process.on("message", (command: Command) => {
  for (const name of command.names) proxies.get(name)?.set(command.state);
  process.send?.({ done: command.id });
});
// The harness went away (even by kill -9): nothing here may outlive it.
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: Object.fromEntries([...proxies].map(([name, proxy]) => [name, proxy.port])) });
