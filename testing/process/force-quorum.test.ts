import { afterAll, describe, expect, it } from "vitest";
import { ProcessCluster } from "./process-cluster.js";

/**
 * FTL's force quorum on real processes: two of three members are killed with kill -9; the
 * survivor cannot serve (no quorum) until an operator forces one. It then leads alone, says
 * what may be lost, keeps everything it had, and the others rejoin as voters when they return.
 */
describe("real processes: force quorum after losing a majority", () => {
  let cluster: ProcessCluster | null = null;

  afterAll(async () => {
    await cluster?.stop();
  });

  it("serves again after force quorum, loses nothing the survivor held, and the others rejoin", async () => {
    cluster = await ProcessCluster.start({ recordCommandsMax: 10_000 });
    const leader = await cluster.waitForLeader();
    const encoder = new TextEncoder();
    const before: number[] = [];
    for (let at = 0; at < 20; at += 1) before.push((await cluster.client.propose(encoder.encode(`before-${at}`))).index);

    const others = cluster.cluster.members.map((member) => member.id).filter((id) => id !== leader);
    for (const id of others) await cluster.kill(id);
    // No quorum: the survivor steps down (check-quorum) and refuses to lead alone.
    const deadline = Date.now() + 5000;
    let status = await cluster.status(leader);
    while (status?.role === "leader" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await cluster.status(leader);
    }
    expect(status?.role).not.toBe("leader");

    const report = JSON.parse(await cluster.client.forceQuorum(leader, [])) as {
      voters: string[];
      unreachable: string[];
      kept: { index: number };
      mayBeLostAfterIndex: number;
    };
    expect(report.voters).toEqual([leader]);
    expect(report.unreachable.sort()).toEqual([...others].sort());
    expect(report.kept.index).toBeGreaterThanOrEqual(Math.max(...before));
    expect(report.mayBeLostAfterIndex).toBe(report.kept.index);

    const after = await cluster.client.propose(encoder.encode("after-force"));
    expect(after.index).toBeGreaterThan(report.kept.index);

    // The safe procedure: bring left-out members back one at a time, each once the previous
    // rejoined. Two of them together, before hearing the forced leader, would still be a
    // majority of the old configuration (see README, force quorum).
    let voters: readonly string[] = [];
    for (const [position, id] of others.entries()) {
      cluster.startMember(id);
      const rejoinDeadline = Date.now() + 20_000;
      while (Date.now() < rejoinDeadline) {
        voters = (await cluster.status(leader))?.voters ?? [];
        const returned = await cluster.status(id);
        if (voters.length === 2 + position && returned !== null && returned.commitIndex >= after.index) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect([...voters].sort(), cluster.logLines.slice(-30).join("\n")).toEqual(cluster.cluster.members.map((member) => member.id).sort());
    for (const id of others) {
      const applied = await cluster.client.applied(id, 1, 10_000);
      const texts = applied.map((command) => new TextDecoder().decode(command.payload));
      expect(texts).toEqual([...before.map((_, at) => `before-${at}`), "after-force"]);
    }
  }, 90_000);
});
