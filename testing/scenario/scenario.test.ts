import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { render } from "./transcript.js";

const directory = join(dirname(fileURLToPath(import.meta.url)), "testdata");

describe("consensus scenarios (golden transcripts; REWRITE=1 regenerates)", () => {
  for (const file of readdirSync(directory).filter((name) => name.endsWith(".txt")).sort()) {
    it(file.replace(/\.txt$/, "").replaceAll("-", " "), () => {
      const path = join(directory, file);
      const expected = readFileSync(path, "utf8");
      const actual = render(expected);
      if (process.env.REWRITE === "1") writeFileSync(path, actual);
      else expect(actual).toBe(expected);
    });
  }
});
