import { expect, it } from "vitest";
import { replaceSection, sectionBegin, sectionEnd } from "./benchmarks-doc.js";

it("appends the section when the document has none, and replaces only it afterwards", () => {
  const first = replaceSection("# Benchmarks\n\ntext\n", "run 1");
  expect(first).toBe(`# Benchmarks\n\ntext\n\n${sectionBegin}\nrun 1\n${sectionEnd}\n`);
  const withMore = `${first}\n## Later section\n`;
  expect(replaceSection(withMore, "run 2\n")).toBe(`# Benchmarks\n\ntext\n\n${sectionBegin}\nrun 2\n${sectionEnd}\n\n## Later section\n`);
});
