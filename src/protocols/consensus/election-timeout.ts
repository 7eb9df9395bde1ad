import type { Prng } from "../../kernel/prng.js";
import type { Configuration, MemberId } from "./types.js";

/**
 * Weighted election timeouts (FTL weights). The range [min, max) is cut into one band per
 * distinct voter weight, heaviest first: with no leader, the heaviest up-to-date member times
 * out first and wins; a lighter one campaigns only if the heavier ones are down or behind.
 * Members of one weight draw uniformly inside their band, which keeps split votes rare.
 */
export function electionTimeoutMs(
  config: Configuration,
  self: MemberId,
  selfWeight: number,
  minMs: number,
  maxMs: number,
  random: Prng,
): number {
  const weights = [...new Set(config.voters.map((member) => member.weight))].sort((a, b) => b - a);
  const isVoter = config.voters.some((member) => member.id === self);
  const bandCount = Math.max(1, weights.length);
  // A learner or unknown weight takes the lightest band: it cannot win anyway.
  const rank = isVoter ? Math.max(0, weights.indexOf(selfWeight)) : bandCount - 1;
  const bandMs = (maxMs - minMs) / bandCount;
  return Math.floor(minMs + bandMs * rank + random.next() * bandMs);
}
