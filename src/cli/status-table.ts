import type { ClusterClient } from "../client/cluster-client.js";
import type { MemberStatus } from "../protocols/consensus/types.js";
import { withTimeout } from "./with-timeout.js";

export interface StatusRow {
  readonly id: string;
  readonly status: MemberStatus | null;
  readonly error?: string;
  readonly emptyReason?: string | null;
}

/** Ask every member for its status at once; a member that does not answer in time is down. */
export function collectStatus(client: ClusterClient, memberIds: readonly string[], timeoutMs: number): Promise<StatusRow[]> {
  return Promise.all(
    memberIds.map(async (id): Promise<StatusRow> => {
      try {
        const answer = await withTimeout(client.status(id), timeoutMs);
        return { id, status: answer.status, emptyReason: answer.emptyReason };
      } catch (error) {
        return { id, status: null, error: (error as Error).message };
      }
    }),
  );
}

/** One line per member: what an operator needs to see leadership and history at a glance. */
export function statusTable(rows: readonly StatusRow[]): string {
  const header = ["member", "role", "term", "leader", "commit", "history", "data", "consistency"];
  const lines = rows.map((row) => {
    const s = row.status;
    if (!s) return [row.id, "down", "-", "-", "-", "-", "-", row.error ?? ""];
    const consistency = s.consistency === "up-to-date" ? "up to date" : `last up to date at ${s.consistency.lastUpToDate.index} (term ${s.consistency.lastUpToDate.term})`;
    return [
      s.id,
      s.role,
      String(s.term),
      s.leaderId ?? "none",
      String(s.commitIndex),
      `${s.history.index} (term ${s.history.term})`,
      s.empty ? `empty${row.emptyReason ? `: ${row.emptyReason}` : ""}` : "non-empty",
      consistency,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? "").length)));
  const format = (line: readonly string[]): string => line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
  return [format(header), ...lines.map(format)].join("\n");
}
