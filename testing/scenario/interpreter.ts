import type { Input } from "../../src/protocols/consensus/inputs.js";
import type { ConsensusOptions } from "../../src/protocols/consensus/options.js";
import type { MemberDefinition } from "../../src/protocols/consensus/types.js";
import { ScenarioCluster } from "./cluster.js";

/**
 * Runs one scenario command and returns its output lines. Commands (one per block):
 *   cluster a:2,b:1,c:1 [fresh] [seed=N]   start members with weights
 *   start d:1               start a new, empty member process
 *   (a member argument `leader` means whichever member leads now)
 *   run MS                  advance time; prints what happened
 *   run-until-leader MS     advance until a member leads (stops right after the election)
 *   propose a TEXT          a client proposes at a
 *   read a                  a lease read at a
 *   cut a>b | isolate a | partition a,b/c | heal
 *   crash a | restart a | wipe a | pause a | resume a
 *   lose-tail a N           a restarts after recovery cut its WAL tail: N > 0 synced entries lost
 *                           (a lying or damaged disk), 0 only an unsynced torn record (power loss)
 *   transfer a [b] | add-learner a d:1 | promote a d | remove a c | force-quorum a b,c
 *   snapshot a              a's application snapshots what it applied
 *   status | log a | applied a
 */
export interface ScenarioState {
  cluster: ScenarioCluster | null;
  readSeq: number;
}

export function runCommand(state: ScenarioState, line: string): string[] {
  const [command, ...args] = line.trim().split(/\s+/);
  if (command === "cluster") {
    state.cluster = createCluster(args);
    return [];
  }
  const cluster = state.cluster;
  if (!cluster) throw new Error("first command must be `cluster`");
  const arg = (position: number): string => {
    const value = args[position];
    if (value === undefined) throw new Error(`${command}: missing argument ${position + 1}`);
    return value === "leader" ? cluster.leader() : value;
  };
  const step = (id: string, input: Input): string[] => {
    cluster.input(id, input);
    return cluster.takeEvents();
  };
  switch (command) {
    case "run":
      cluster.run(Number(arg(0)));
      return cluster.takeEvents();
    case "run-until-leader":
      cluster.runUntilLeader(Number(arg(0)));
      return cluster.takeEvents();
    case "propose":
      cluster.propose(arg(0), args.slice(1).join(" "));
      return cluster.takeEvents();
    case "read":
      state.readSeq += 1;
      return step(arg(0), { type: "read", readId: state.readSeq });
    case "cut":
      for (const link of args) {
        const [from, to] = link.split(">");
        cluster.cutLink(from!, to!);
      }
      return [];
    case "isolate": {
      const id = arg(0);
      for (const other of cluster.members.keys()) {
        if (other === id) continue;
        cluster.cutLink(id, other);
        cluster.cutLink(other, id);
      }
      return [];
    }
    case "partition": {
      const sides = arg(0).split("/").map((side) => side.split(","));
      for (const side of sides) {
        for (const other of sides) {
          if (other === side) continue;
          for (const from of side) for (const to of other) cluster.cutLink(from, to);
        }
      }
      return [];
    }
    case "heal":
      cluster.heal();
      return [];
    case "start": {
      const [id, weight] = arg(0).split(":");
      cluster.addMember({ id: id!, weight: Number(weight ?? 1) });
      return [];
    }
    case "crash":
      cluster.crash(arg(0));
      return [];
    case "restart":
      cluster.restart(arg(0));
      return [];
    case "wipe":
      cluster.wipe(arg(0));
      return [];
    case "lose-tail":
      cluster.loseTail(arg(0), Number(arg(1)));
      return [];
    case "pause":
      cluster.member(arg(0)).paused = true;
      return [];
    case "resume":
      // Only unpause: the member's next input sees how far time moved while it slept.
      cluster.member(arg(0)).paused = false;
      return [];
    case "transfer":
      return step(arg(0), { type: "transfer-leadership", to: args[1] ?? null });
    case "add-learner": {
      const [id, weight] = arg(1).split(":");
      return step(arg(0), { type: "change-membership", change: { action: "add-learner", member: { id: id!, weight: Number(weight ?? 1) } } });
    }
    case "promote":
      return step(arg(0), { type: "change-membership", change: { action: "promote", memberId: arg(1) } });
    case "remove":
      return step(arg(0), { type: "change-membership", change: { action: "remove", memberId: arg(1) } });
    case "force-quorum":
      return step(arg(0), { type: "force-quorum", reachable: (args[1] ?? "").split(",").filter(Boolean) });
    case "snapshot": {
      const member = cluster.member(arg(0));
      const status = member.node.status();
      const entryTerm = termAt(member, status.appliedIndex);
      const data = new TextEncoder().encode(JSON.stringify(member.applied));
      const config = { voters: status.voters.map((id) => definitionOf(cluster, id)), learners: status.learners.map((id) => definitionOf(cluster, id)) };
      return step(arg(0), { type: "snapshot-taken", snapshot: { index: status.appliedIndex, term: entryTerm, config, data } });
    }
    case "status":
      return [...cluster.members.values()].map((member) => {
        if (!member.running) return `${member.id}: down`;
        const s = member.node.status();
        const consistency = s.consistency === "up-to-date" ? "up-to-date" : `last up to date at ${s.consistency.lastUpToDate.index} (term ${s.consistency.lastUpToDate.term})`;
        return (
          `${s.id}: ${s.role}${member.paused ? " (paused)" : ""} term=${s.term} leader=${s.leaderId ?? "none"} commit=${s.commitIndex} ` +
          `history=${s.history.index}/${s.history.term} ${s.empty ? "empty" : "non-empty"} ${consistency} voters=${s.voters.join(",")}` +
          (s.learners.length > 0 ? ` learners=${s.learners.join(",")}` : "")
        );
      });
    case "log": {
      const member = cluster.member(arg(0));
      const durable = member.durable;
      const head = durable.snapshot ? [`snapshot through ${durable.snapshot.index} (term ${durable.snapshot.term})`] : [];
      return [
        ...head,
        ...durable.entries.map(
          (entry) =>
            `${entry.index}/${entry.term} ${entry.kind}${entry.kind === "command" ? ` ${new TextDecoder().decode(entry.data)}` : ""}${entry.config ? ` voters=${entry.config.voters.map((m) => m.id).join(",")} learners=${entry.config.learners.map((m) => m.id).join(",")}` : ""}`,
        ),
      ];
    }
    case "applied":
      return [`${arg(0)} applied: ${cluster.member(arg(0)).applied.join(" ") || "(nothing)"}`];
    default:
      throw new Error(`unknown command: ${command}`);
  }
}

function createCluster(args: string[]): ScenarioCluster {
  const [list, ...flags] = args;
  if (!list) throw new Error("cluster: list members as a:1,b:1,c:1");
  const definitions: MemberDefinition[] = list.split(",").map((item) => {
    const [id, weight] = item.split(":");
    return { id: id!, weight: Number(weight ?? 1) };
  });
  const overrides: Partial<ConsensusOptions> = {};
  let seed = 1;
  let fresh = false;
  for (const flag of flags) {
    const [key, value] = flag.split("=");
    if (key === "fresh") fresh = true;
    else if (key === "seed") seed = Number(value);
    else throw new Error(`cluster: unknown flag ${flag}`);
  }
  return new ScenarioCluster(definitions, seed, overrides, fresh);
}

function definitionOf(cluster: ScenarioCluster, id: string): MemberDefinition {
  const definition = cluster.definitions.find((member) => member.id === id);
  return definition ?? { id, weight: 1 };
}

function termAt(member: { durable: { entries: { index: number; term: number }[]; snapshot: { index: number; term: number } | null } }, index: number): number {
  const entry = member.durable.entries.find((candidate) => candidate.index === index);
  if (entry) return entry.term;
  if (member.durable.snapshot?.index === index) return member.durable.snapshot.term;
  throw new Error(`no entry at ${index}`);
}
