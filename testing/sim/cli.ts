import { parseArgs } from "node:util";
import { describeFailure, runSeeds } from "./run-seeds.js";
import { Simulation } from "./simulation.js";
import { persistenceCli } from "./persistence/run-persistence-seeds.js";

/**
 * npm run sim -- --seeds 500            seeds 1..500
 * npm run sim -- --seeds 100 --from 700 seeds 700..799
 * npm run sim -- --seed 42              replay one seed, printing its whole trace
 * Options: --members 3|5, --quick (shorter phases), --mix default|transfers (faults.ts),
 * --persistence [--ack-point quorum-memory|leader-memory] [--world mixed|backlog].
 * --unsafe-reads-ignore-lease: demonstration only, reads skip the lease (see SimulationOptions);
 * the read checkers must then find violations.
 * Last line: "seeds: N, violations: V"; exit code 1 on any violation.
 */
const { values } = parseArgs({
  options: {
    seeds: { type: "string" },
    from: { type: "string" },
    seed: { type: "string" },
    members: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    "unsafe-reads-ignore-lease": { type: "boolean", default: false },
    mix: { type: "string", default: "default" },
    // --persistence: the persistence state machine and delivery engine over consensus
    // (persistence/README.md); --engine-after-commit-in-term demonstrates a fix it found.
    persistence: { type: "boolean", default: false },
    // --ack-point quorum-fsync|quorum-memory|leader-memory: the simulated store's (persistence only).
    "ack-point": { type: "string", default: "quorum-fsync" },
    // --world backlog: a large backlog, leader kills, a long stop, deploys, then everyone killed
    // at once (persistence/backlog-world.ts); mixed: random faults of every kind.
    world: { type: "string", default: "mixed" },
  },
});

const members = Number(values.members);
const unsafeReadsIgnoreLease = values["unsafe-reads-ignore-lease"];
if (members !== 3 && members !== 5) {
  console.error(`--members must be 3 or 5, not ${values.members}`);
  process.exit(2);
}
const mix = values.mix;
if (mix !== "default" && mix !== "transfers") {
  console.error(`--mix must be default or transfers, not ${mix}`);
  process.exit(2);
}

const ackPoint = values["ack-point"];
if (ackPoint !== "quorum-fsync" && ackPoint !== "quorum-memory" && ackPoint !== "leader-memory") {
  console.error(`--ack-point must be quorum-fsync, quorum-memory or leader-memory, not ${ackPoint}`);
  process.exit(2);
}

const world = values.world;
if (world !== "mixed" && world !== "backlog") {
  console.error(`--world must be mixed or backlog, not ${world}`);
  process.exit(2);
}

if (values.persistence) {
  process.exit(persistenceCli({
    members, quick: values.quick, ackPoint, world,
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }), from: Number(values.from ?? 1), count: Number(values.seeds ?? 100),
  }));
}

if (values.seed !== undefined) {
  const seed = Number(values.seed);
  const result = new Simulation({ seed, members, quick: values.quick, fullTrace: true, echo: (line) => console.log(line), unsafeReadsIgnoreLease, mix }).run();
  console.log(`stats: ${JSON.stringify(result.stats)}`);
  if (result.violations.length > 0) console.log(describeFailure(result, members));
  console.log(`seeds: 1, violations: ${result.violations.length}`);
  process.exit(result.violations.length > 0 ? 1 : 0);
}

const count = Number(values.seeds ?? 100);
const from = Number(values.from ?? 1);
let done = 0;
const summary = runSeeds({ from, count, members, quick: values.quick, unsafeReadsIgnoreLease, mix }, (result) => {
  done++;
  if (result.violations.length > 0) console.log(describeFailure(result, members));
  if (done % 50 === 0) console.error(`... ${done}/${count} seeds`);
});
const seconds = summary.elapsedMs / 1000;
console.log(
  `${count} seeds from ${from} in ${seconds.toFixed(1)}s (${(count / seconds).toFixed(1)} seeds/s, ` +
    `${summary.events} events, ${summary.acknowledged} acknowledged commands, ${summary.reads} reads answered)`,
);
const violations = summary.failures.reduce((total, result) => total + result.violations.length, 0);
console.log(`seeds: ${count}, violations: ${violations}`);
process.exit(violations > 0 ? 1 : 0);
