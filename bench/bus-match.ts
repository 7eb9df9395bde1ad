import { parseArgs } from "node:util";
import { Prng } from "../src/kernel/prng.js";
import { inboxPattern } from "../src/protocols/bus/inbox.js";
import { InterestTable } from "../src/protocols/bus/interest-table.js";
import { busLimits } from "../src/protocols/bus/limits.js";
import { figure } from "./stats.js";

/**
 * The bus's hot path, in one process, no I/O: `InterestTable.match` over 10,000 subscriptions
 * (40% connection inboxes `_INBOX.<c>.*`, the rest application patterns of 4 tokens with some
 * `*` and `>`), 1e6 publishes to a few hundred subjects in seeded random order. Measured with
 * the match cache, without it, and with the cache under request/reply churn (a literal
 * subscription, a fresh `_INBOX.<id>`, added and removed every 100 publishes).
 */
export async function busMatchBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      subscriptions: { type: "string", default: "10000" },
      publishes: { type: "string", default: "1000000" },
      subjects: { type: "string", default: "300" },
      seed: { type: "string", default: "1" },
    },
  });
  const setup = {
    subscriptions: Number(values.subscriptions),
    publishes: Number(values.publishes),
    subjects: Number(values.subjects),
    seed: Number(values.seed),
  };

  const cached = measure(setup, busLimits.matchCacheEntriesMax, 0);
  const uncached = measure(setup, 0, 0);
  const churned = measure(setup, busLimits.matchCacheEntriesMax, 100);
  const common = { subscriptions: setup.subscriptions, subjects: setup.subjects, publishes: setup.publishes, seed: setup.seed };
  figure("bus.match_cached", cached.perSecond, "ops/s", { ...common, cacheEntriesMax: busLimits.matchCacheEntriesMax, matchesPerPublish: cached.matchesPerPublish });
  figure("bus.match_uncached", uncached.perSecond, "ops/s", { ...common, matchesPerPublish: uncached.matchesPerPublish });
  figure("bus.match_cached_with_churn", churned.perSecond, "ops/s", { ...common, churnEveryPublishes: 100 });
  process.stderr.write(
    `\nbus match: ${setup.subscriptions} subscriptions, ${setup.publishes} publishes to ${setup.subjects} subjects ` +
      `(${cached.matchesPerPublish.toFixed(2)} matching subscriptions per publish): ` +
      `${format(cached.perSecond)} ops/s cached, ${format(uncached.perSecond)} ops/s uncached, ` +
      `${format(churned.perSecond)} ops/s cached with an inbox subscribe/unsubscribe every 100 publishes\n`,
  );
}

/** The shape bench/cli.ts loads. */
export const run = busMatchBench;

type Setup = { readonly subscriptions: number; readonly publishes: number; readonly subjects: number; readonly seed: number };

function measure(setup: Setup, matchCacheEntriesMax: number, churnEveryPublishes: number): { perSecond: number; matchesPerPublish: number } {
  const random = new Prng(setup.seed);
  const vocabulary = [
    Array.from({ length: 8 }, (_, index) => `domain${index}`),
    Array.from({ length: 20 }, (_, index) => `region${index}`),
    Array.from({ length: 10 }, (_, index) => `kind${index}`),
    Array.from({ length: 50 }, (_, index) => `item${index}`),
  ];
  const subjects = Array.from({ length: setup.subjects }, () => vocabulary.map((tokens) => random.pick(tokens)).join("."));
  const table = new InterestTable<number>({ ...busLimits, matchCacheEntriesMax });
  for (let index = 0; index < setup.subscriptions; index += 1) {
    const connection = index % 1000;
    const pattern = random.chance(0.4) ? inboxPattern(`c${connection}x${index}`) : applicationPattern(random, random.chance(0.5) ? random.pick(subjects).split(".") : vocabulary.map((tokens) => random.pick(tokens)));
    const added = table.add(pattern, connection, `s${index}`);
    if (!added.ok) throw new Error(added.detail);
  }
  const order = Array.from({ length: setup.publishes }, () => random.pick(subjects));

  let matches = 0;
  const started = performance.now();
  for (let index = 0; index < order.length; index += 1) {
    if (churnEveryPublishes > 0 && index % churnEveryPublishes === 0) {
      table.add(`_INBOX.request${index}`, -1, `churn${index}`);
      table.remove(`churn${index}`);
    }
    matches += table.match(order[index] as string).length;
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: setup.publishes / seconds, matchesPerPublish: matches / setup.publishes };
}

/** A concrete subject with some tokens made `*` and sometimes a `>` tail. */
function applicationPattern(random: Prng, tokens: string[]): string {
  const wildcarded = tokens.map((token) => (random.chance(0.1) ? "*" : token));
  if (random.chance(0.1)) return [...wildcarded.slice(0, random.int(2, tokens.length - 1)), ">"].join(".");
  return wildcarded.join(".");
}

function format(perSecond: number): string {
  return Math.round(perSecond).toLocaleString("en-US");
}
