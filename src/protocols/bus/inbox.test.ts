import { describe, expect, it } from "vitest";
import { compileSubjectPattern, subjectMatches } from "../persistence/subject.js";
import { inboxPattern, inboxPrefix, inboxSubject, isInbox } from "./inbox.js";
import { validatePublishSubject } from "./publish-subject.js";

describe("inboxes", () => {
  it("a connection's inbox pattern matches its reply subjects and no other connection's", () => {
    const pattern = compileSubjectPattern(inboxPattern("c1"));
    if (!pattern.ok) throw new Error(pattern.detail);
    expect(inboxPrefix("c1")).toBe("_INBOX.c1");
    expect(inboxSubject("c1", "7")).toBe("_INBOX.c1.7");
    expect(validatePublishSubject(inboxSubject("c1", "7"))).toBeNull();
    expect(subjectMatches(pattern.pattern, inboxSubject("c1", "7"))).toBe(true);
    expect(subjectMatches(pattern.pattern, inboxSubject("c2", "7"))).toBe(false);
  });

  it.each([
    ["_INBOX.c1", true],
    ["_INBOX.c1.7", true],
    ["_INBOX", false],
    ["_INBOX.", false],
    ["_INBOXES.c1", false],
    ["ORDERS._INBOX.c1", false],
  ])("isInbox(%j) is %s", (subject, expected) => {
    expect(isInbox(subject)).toBe(expected);
  });

  it("refuses ids that are not one plain token (a programmer error)", () => {
    expect(() => inboxPrefix("")).toThrow(/connection id/);
    expect(() => inboxPrefix("a.b")).toThrow(/connection id/);
    expect(() => inboxSubject("c1", "*")).toThrow(/request id/);
  });
});
