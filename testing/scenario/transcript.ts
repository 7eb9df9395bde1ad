import { runCommand, type ScenarioState } from "./interpreter.js";

/**
 * Scenario transcripts (etcd raft's datadriven style): blocks of
 *   command
 *   ----
 *   expected output
 * separated by blank lines; `#` lines are comments. `render` runs the commands and returns
 * the file as it should read, so a test compares it and REWRITE=1 writes it back.
 */
export function render(text: string): string {
  const state: ScenarioState = { cluster: null, readSeq: 0 };
  const out: string[] = [];
  const lines = text.split("\n");
  let at = 0;
  while (at < lines.length) {
    const line = lines[at] ?? "";
    if (line.trim() === "" || line.startsWith("#")) {
      out.push(line);
      at += 1;
      continue;
    }
    // A command, its separator, then its old output up to the next blank line.
    at += 1;
    if ((lines[at] ?? "") === "----") {
      at += 1;
      while (at < lines.length && (lines[at] ?? "").trim() !== "") at += 1;
    }
    out.push(line, "----", ...runCommand(state, line));
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return `${out.join("\n")}\n`;
}
