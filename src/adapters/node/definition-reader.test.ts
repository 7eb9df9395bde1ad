import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseRealmDefinition } from "../../realm/load.js";
import { readDefinitionOffThread } from "./definition-reader.js";

const demo = readFileSync(new URL("../../realm/testdata/demo-realm.yaml", import.meta.url), "utf8");

describe("readDefinitionOffThread", () => {
  it("reads a definition in a worker thread with the same result as reading it here", async () => {
    const read = await readDefinitionOffThread(demo, "demo-realm.yaml");
    expect(read).toEqual(parseRealmDefinition(demo, "demo-realm.yaml"));
    expect(read.ok).toBe(true);
  });

  it("gives a definition's errors back as they are, and keeps the event loop free meanwhile", async () => {
    const text = `${demo}\n${Array.from({ length: 20_000 }, (_, at) => `unknown${at}: ${at}`).join("\n")}\n`;
    let turns = 0;
    const ticking = setInterval(() => turns++, 5);
    const read = await readDefinitionOffThread(text, "big.yaml");
    clearInterval(ticking);
    expect(read).toEqual(parseRealmDefinition(text, "big.yaml"));
    expect(read.ok).toBe(false);
    // The worker's start and read took some turns of 5 ms; the loop ran them all along.
    expect(turns).toBeGreaterThan(0);
  });
});
