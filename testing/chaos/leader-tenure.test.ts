/** The serve-again judgement on hand-made status polls: what counts as one leader keeping its term. */
import { describe, expect, it } from "vitest";
import { LeaderTenure, type TenureView } from "./leader-tenure.js";

const keptMs = 3000;
const view = (service: string, role: string, term: number, commitIndex = 10): TenureView => ({ service, role, term, consistency: "up-to-date", commitIndex });
const follower = (service: string, term: number): TenureView => view(service, "follower", term);

describe("leader tenure", () => {
  it("counts a leader that keeps its term through every poll for the whole time", () => {
    const tenure = new LeaderTenure();
    for (let atMs = 0; atMs <= keptMs; atMs += 100) tenure.observe(atMs, [view("c1-s1", "leader", 5), follower("c1-s2", 5), follower("c1-s3", 5)]);
    expect(tenure.kept(keptMs, keptMs)).toEqual({ service: "c1-s1", term: 5, sinceMs: 0 });
  });

  it("never counts the wedged cluster: each new leader steps down within milliseconds and terms climb", () => {
    const tenure = new LeaderTenure();
    for (let poll = 0; poll < 200; poll++) {
      const term = 4 + Math.floor(poll / 2);
      const services = ["c1-s1", "c1-s2", "c1-s3"];
      // Every other poll catches the leader of the moment; the next one sees it a candidate of a newer term.
      const leader = services[term % 3] as string;
      const views =
        poll % 2 === 0
          ? services.map((service) => (service === leader ? view(service, "leader", term) : follower(service, term)))
          : services.map((service) => view(service, "candidate", term + 1, 0));
      tenure.observe(poll * 100, views);
      expect(tenure.kept(poll * 100, keptMs)).toBeNull();
    }
    expect(tenure.describe()).toMatch(/terms 4\.\.104/);
  });

  it("ends a tenure when the leader cannot be reached, or leads with nothing committed", () => {
    const tenure = new LeaderTenure();
    tenure.observe(0, [view("c1-s1", "leader", 5), follower("c1-s2", 5)]);
    tenure.observe(1000, [null, follower("c1-s2", 5)]);
    tenure.observe(2000, [view("c1-s1", "leader", 5), follower("c1-s2", 5)]);
    expect(tenure.kept(4000, keptMs)).toBeNull();
    expect(tenure.kept(5000, keptMs)).toMatchObject({ service: "c1-s1", sinceMs: 2000 });

    const empty = new LeaderTenure();
    for (let atMs = 0; atMs <= keptMs; atMs += 500) empty.observe(atMs, [view("c1-s1", "leader", 5, 0)]);
    expect(empty.kept(keptMs, keptMs)).toBeNull();
  });

  it("ignores a leader of an older term that has not heard of the newer one yet", () => {
    const tenure = new LeaderTenure();
    for (let atMs = 0; atMs <= keptMs; atMs += 100) tenure.observe(atMs, [view("c1-s1", "leader", 4), view("c1-s2", "leader", 6), follower("c1-s3", 6)]);
    expect(tenure.kept(keptMs, keptMs)).toMatchObject({ service: "c1-s2", term: 6 });
  });
});
