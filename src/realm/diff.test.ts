import { describe, expect, it } from "vitest";
import { diffDefinitions } from "./diff.js";

describe("diffDefinitions", () => {
  it("shows a changed line with two lines of context and where the hunk starts", () => {
    const before = ["a", "b", "c", "d", "e", "f", "g"].join("\n");
    const after = ["a", "b", "c", "D", "e", "f", "g"].join("\n");
    expect(diffDefinitions(before, after, 100)).toEqual({ added: 1, removed: 1, lines: ["@@ line 2", "  b", "  c", "- d", "+ D", "  e", "  f"] });
  });

  it("finds an insertion and a removal apart, as two hunks", () => {
    const before = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"].join("\n");
    const after = ["1", "new", "2", "3", "4", "5", "6", "7", "8", "10"].join("\n");
    const diff = diffDefinitions(before, after, 100);
    expect(diff.added).toBe(1);
    expect(diff.removed).toBe(1);
    expect(diff.lines.filter((line) => line.startsWith("@@"))).toHaveLength(2);
    expect(diff.lines).toContain("+ new");
    expect(diff.lines).toContain("- 9");
  });

  it("says nothing for the same text, and cuts a long diff with a count", () => {
    expect(diffDefinitions("x\ny\n", "x\ny\n", 10)).toEqual({ added: 0, removed: 0, lines: [] });
    const long = diffDefinitions("", Array.from({ length: 50 }, (_, at) => `line ${at}`).join("\n"), 10);
    expect(long.added).toBe(50);
    expect(long.lines).toHaveLength(11);
    expect(long.lines[10]).toBe("… 41 more lines of diff not shown");
  });
});
