import type { RealmNodeState } from "./node-state.js";
import { writeRefusal } from "./revisions.js";

/** Who connects: an application, or a persistence service of a standby (disaster-recovery) set. */
export type ClientKind = "application" | "disaster-recovery-service";

export type Admission =
  | { readonly admitted: true }
  /** `redirectTo`: servers the client should try instead, best first (may be empty). */
  | { readonly admitted: false; readonly reason: string; readonly redirectTo: readonly string[] };

/** Seed 003's "accepting TCP connections" row, for clients. A pure query. */
export function admitClient(node: RealmNodeState, kind: ClientKind): Admission {
  const { family, self, role } = node;
  if (role === "disaster-recovery" && kind !== "disaster-recovery-service") {
    return refused(`${self} is the disaster-recovery server and accepts only disaster-recovery persistence services; connect to the primary ${family.primary}`, [family.primary]);
  }
  if (node.newest === null) {
    const from = role === "primary" ? "deploy one to it" : `it waits for one from ${family.upstreamOf(self) ?? family.primary}`;
    return refused(`${self} has no realm definition yet (${from})`, role === "backup" ? [family.regularServerOf(self)] : []);
  }
  if (role === "backup" && !node.serving) {
    const regular = family.regularServerOf(self);
    return refused(`${self} is the backup of ${regular} and accepts clients only while ${regular} is down; connect to ${regular}`, [regular]);
  }
  return { admitted: true };
}

export type WriteAdmission =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: string; readonly primary: string };

/** A deploy, an edit of the definition or an admin write: the primary only. A pure query. */
export function admitWrite(node: RealmNodeState): WriteAdmission {
  if (node.role === "primary") return { admitted: true };
  return { admitted: false, reason: writeRefusal(node), primary: node.family.primary };
}

function refused(reason: string, redirectTo: readonly string[]): Admission {
  return { admitted: false, reason, redirectTo };
}

/** Logs a change of serving; a backup whose regular server serves again hands its clients back. */
export function noteServing(node: RealmNodeState): void {
  const serving = node.serving;
  if (serving === node.wasServing) return;
  node.wasServing = serving;
  const regular = node.regularServerLink();
  if (regular === undefined) {
    node.log("info", `${node.self}: ${serving ? "accepts" : "no longer accepts"} clients`);
    return;
  }
  if (serving) {
    node.log("warn", `${node.self}: ${regular.peer} is down: its backup ${node.self} accepts its clients`);
  } else {
    node.log("info", `${node.self}: ${regular.peer} serves again: its clients go back to it`);
    node.emit({ type: "hand-back-clients", to: regular.peer });
  }
}
