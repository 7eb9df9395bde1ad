import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { limits } from "../kernel/limits.js";
import { parseRealmDefinition, parseRealmDefinitionAsync } from "./load.js";
import { formatRealmError } from "./realm-error.js";

/**
 * A realm definition is read from operators and over the admin port while the server serves:
 * however large or odd, it is read in time linear in its size and refused with errors that
 * name the bound, the path and the line.
 */
const demo = readFileSync(fileURLToPath(new URL("./testdata/demo-realm.yaml", import.meta.url)), "utf8");

/** The demo realm followed by `count` unknown top-level keys: about 10 characters each. */
function demoWithTopLevelKeys(count: number): string {
  const keys: string[] = [];
  for (let index = 0; index < count; index++) keys.push(`k${index}: 0`);
  return `${demo}${keys.join("\n")}\n`;
}

function failure(text: string): { errors: string[]; errorsNotListed: number } {
  const result = parseRealmDefinition(text, "test.yaml");
  if (result.ok) throw new Error("expected the definition to be refused");
  return { errors: result.errors.map((error) => formatRealmError(error)), errorsNotListed: result.errorsNotListed };
}

describe("a large realm definition", () => {
  it("of 1 MB of unknown top-level keys is refused for its key count, not read key by key for minutes", () => {
    // A quadratic step (comparing each key with every earlier one, or locating each unknown
    // key from the top of its mapping) takes minutes on this input, far past the test timeout.
    const text = demoWithTopLevelKeys(110_000);
    expect(text.length).toBeGreaterThan(1_000_000);
    const lineOfSites = demo.split("\n").findIndex((line) => line.startsWith("sites:")) + 1;
    expect(failure(text)).toEqual({
      errors: [`${lineOfSites}:1: expected a mapping of at most ${limits.realmYamlKeysPerMapMax} keys, found 110009 keys (what is inside it was not read)`],
      errorsNotListed: 0,
    });
  });

  it("with 20,000 unknown keys spread over 20,000 sites lists the first errors and counts the rest", () => {
    const sites = Array.from({ length: 20_000 }, (_, index) => `  - { name: site${index}, colour: red }`).join("\n");
    const { errors, errorsNotListed } = failure(demo.replace("sites:\n  - name: local\n", `sites:\n  - name: local\n${sites}\n`));
    expect(errors).toHaveLength(limits.realmErrorsListedMax);
    expect(errorsNotListed).toBe(20_000 - limits.realmErrorsListedMax);
    expect(errors[0]).toMatch(/^7:\d+: sites\[1\]\.colour: expected only the keys this section defines \(see src\/realm\/README\.md\), found "colour"$/);
  });

  it("reads the same asynchronously, giving the event loop turns while it reads", async () => {
    const text = demoWithTopLevelKeys(20_000);
    let turns = 0;
    const ticker = setInterval(() => (turns += 1), 0);
    try {
      const asynchronous = await parseRealmDefinitionAsync(text, "test.yaml", 0);
      expect(asynchronous).toEqual(parseRealmDefinition(text, "test.yaml"));
    } finally {
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(0);
    expect(await parseRealmDefinitionAsync(demo, "demo.yaml")).toEqual(parseRealmDefinition(demo, "demo.yaml"));
  });
});

describe("bounds on the YAML, each named in its error", () => {
  it("keys in one mapping", () => {
    const extra = Array.from({ length: limits.realmYamlKeysPerMapMax }, (_, index) => `    extra${index}: 1\n`).join("");
    const text = demo.replace("    realmService: { role: primary }\n", `    realmService: { role: primary }\n${extra}`);
    const found = `${limits.realmYamlKeysPerMapMax + 5} keys (what is inside it was not read)`;
    expect(failure(text).errors).toEqual([`15:5: servers[0]: expected a mapping of at most ${limits.realmYamlKeysPerMapMax} keys, found ${found}`]);
  });

  it("nodes in one document", () => {
    const nodesMax = limits.realmYamlNodesMax;
    // The mapping, the key `list` and the sequence are the first three nodes: item nodesMax - 3 is one too many.
    const text = `list: [${new Array<string>(nodesMax).fill("0").join(", ")}]\n`;
    const expected = `a document of at most ${nodesMax} nodes (keys, values and collections)`;
    const found = `more than ${nodesMax} (the next one is here; the rest was not read)`;
    expect(failure(text).errors).toEqual([`1:${"list: [".length + 1 + 3 * (nodesMax - 3)}: list[${nodesMax - 3}]: expected ${expected}, found ${found}`]);
  });

  it("nesting depth, far below what would exhaust the stack", () => {
    const depth = limits.realmYamlNestingDepthMax;
    // Lists in lists: the top-level mapping is depth 1, the outermost list of `deep` depth 2.
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const expected = `expected collections nested at most ${depth} deep, found one at depth ${depth + 1} (what is inside it was not read)`;
    const line = demo.split("\n").length;
    expect(failure(`${demo}deep: ${nested}\n`).errors).toEqual([`${line}:${"deep: ".length + depth}: deep${"[0]".repeat(depth - 1)}: ${expected}`]);
    // Deep enough that yaml's recursive composer would exhaust the stack ("Maximum call stack size exceeded").
    const veryDeep = failure(`${demo}deep: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`).errors;
    expect(veryDeep).toHaveLength(1);
    expect(veryDeep[0]).toContain(expected);
  });

  it("a key given twice in one mapping, however it is quoted, names both places", () => {
    expect(failure(demo.replace("ports: { client: 7402,", "ports: { client: 7402, \"client\": 7402,")).errors).toEqual([
      '23:28: servers[1].ports.client: expected a key given once in its mapping (it is first at line 23), found "client" again',
    ]);
  });

  it("a second YAML document", () => {
    expect(failure(`${demo}---\nsites: []\n`).errors).toEqual([expect.stringMatching(/^\d+:1: expected one YAML document, found a second one \(after ---\)$/)]);
  });
});
