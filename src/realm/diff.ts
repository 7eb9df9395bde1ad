/**
 * What a deploy changes, line by line, for the operator to read before (`--dry-run`) and after
 * it: lines kept as `  `, removed as `- `, added as `+ `, with up to `contextLines` unchanged
 * lines around each change and `@@ line N` where a hunk starts. Pure.
 *
 * The common head and tail are trimmed first (a deploy usually changes a few lines of a long
 * file); the middle is compared by longest common subsequence when it is small enough to do so
 * in bounded memory, and otherwise shown as removed and added whole.
 */
const middleCellsMax = 4_000_000;
const contextLines = 2;

export interface DefinitionDiff {
  readonly added: number;
  readonly removed: number;
  /** The hunks as lines to print, at most `linesMax` (then a line says how many were left out). */
  readonly lines: readonly string[];
}

type Edit = { readonly kind: " " | "-" | "+"; readonly text: string; readonly line: number };

export function diffDefinitions(before: string, after: string, linesMax: number): DefinitionDiff {
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  const edits: Edit[] = [];
  for (let i = 0; i < head; i += 1) edits.push({ kind: " ", text: a[i] as string, line: i + 1 });
  edits.push(...middle(a.slice(head, a.length - tail), b.slice(head, b.length - tail), head));
  for (let i = a.length - tail; i < a.length; i += 1) edits.push({ kind: " ", text: a[i] as string, line: i + 1 + (b.length - a.length) });
  const added = edits.filter((edit) => edit.kind === "+").length;
  const removed = edits.filter((edit) => edit.kind === "-").length;
  return { added, removed, lines: hunks(edits, linesMax) };
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The changed middle: LCS when small enough, else all of `a` removed and all of `b` added. */
function middle(a: readonly string[], b: readonly string[], offset: number): Edit[] {
  if (a.length * b.length > middleCellsMax) {
    return [...a.map((text) => ({ kind: "-" as const, text, line: offset + 1 })), ...b.map((text, at) => ({ kind: "+" as const, text, line: offset + at + 1 }))];
  }
  // lengths[i][j]: LCS length of a[i..] and b[j..], in one flat array.
  const width = b.length + 1;
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lengths[i * width + j] = a[i] === b[j] ? (lengths[(i + 1) * width + j + 1] as number) + 1 : Math.max(lengths[(i + 1) * width + j] as number, lengths[i * width + j + 1] as number);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      edits.push({ kind: " ", text: a[i] as string, line: offset + j + 1 });
      i += 1;
      j += 1;
    } else if (i < a.length && (j === b.length || (lengths[(i + 1) * width + j] as number) >= (lengths[i * width + j + 1] as number))) {
      // Removals before additions, as people write a replaced line.
      edits.push({ kind: "-", text: a[i] as string, line: offset + j + 1 });
      i += 1;
    } else {
      edits.push({ kind: "+", text: b[j] as string, line: offset + j + 1 });
      j += 1;
    }
  }
  return edits;
}

/** Changed lines with their context, each hunk headed by the line (of the new text) it starts at. */
function hunks(edits: readonly Edit[], linesMax: number): string[] {
  const keep = new Array<boolean>(edits.length).fill(false);
  edits.forEach((edit, at) => {
    if (edit.kind === " ") return;
    for (let k = Math.max(0, at - contextLines); k <= Math.min(edits.length - 1, at + contextLines); k += 1) keep[k] = true;
  });
  const lines: string[] = [];
  let shown = 0;
  let total = 0;
  edits.forEach((edit, at) => {
    if (!keep[at]) return;
    const starts = at === 0 || !keep[at - 1];
    const out = [...(starts ? [`@@ line ${edit.line}`] : []), `${edit.kind} ${edit.text}`];
    total += out.length;
    if (shown + out.length > linesMax) return;
    shown += out.length;
    lines.push(...out);
  });
  if (total > shown) lines.push(`… ${total - shown} more lines of diff not shown`);
  return lines;
}
