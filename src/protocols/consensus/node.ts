// Placeholder replaced by the real state machine in the next commit; the signature is final.
import type { Ready } from "./effects.js";
import type { Input, RecoveredState } from "./inputs.js";
import type { ConsensusOptions } from "./options.js";
import type { MemberStatus } from "./types.js";

export class ConsensusNode {
  constructor(_options: ConsensusOptions, _recovered: RecoveredState, _nowMs: number) {}
  step(_nowMs: number, _input: Input): void {
    throw new Error("not yet");
  }
  hasReady(): boolean {
    return false;
  }
  takeReady(): Ready {
    throw new Error("not yet");
  }
  status(): MemberStatus {
    throw new Error("not yet");
  }
}
