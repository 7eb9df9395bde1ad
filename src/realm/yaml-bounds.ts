/**
 * Bounds on the shape of a YAML text, checked on yaml's concrete syntax tree before it is
 * composed into a document: the composer recurses once per nesting level (deep input exhausts
 * the stack) and allocates every node, so a text past these bounds is refused before either.
 * One pass over the tokens with an explicit stack; a path is built only for an error.
 */
import { CST, type LineCounter } from "yaml";
import { limits } from "../kernel/limits.js";
import { formatPath, type PathSegment, type RealmError } from "./realm-error.js";

export interface YamlBounds {
  /** Collections nested in one another; the top-level mapping is depth 1. */
  readonly nestingDepthMax: number;
  /** Nodes (keys, values and collections) in one document. */
  readonly nodesMax: number;
  /** Keys in one mapping. */
  readonly keysPerMapMax: number;
}

export const realmYamlBounds: YamlBounds = {
  nestingDepthMax: limits.realmYamlNestingDepthMax,
  nodesMax: limits.realmYamlNodesMax,
  keysPerMapMax: limits.realmYamlKeysPerMapMax,
};

/** A node waiting to be looked at, linked to its parent so its path can be built on demand. */
interface Frame {
  readonly token: CST.Token;
  /** Collections this node is in, itself included if it is one. */
  readonly depth: number;
  readonly parent: Frame | null;
  /** Its index in a sequence, or its key's token in a mapping (resolved only for an error). */
  readonly segment: number | CST.Token | null;
}

/** Nodes looked at between two points where the reader may pause. */
const nodesPerStep = 4096;

/** Every bound broken by the documents in `tokens` (yaml's Parser output), in file order; in steps. */
export function* checkYamlBounds(tokens: readonly CST.Token[], lineCounter: LineCounter, bounds: YamlBounds = realmYamlBounds): Generator<void, RealmError[]> {
  const errors: RealmError[] = [];
  for (const token of tokens) {
    if (token.type === "document" && token.value !== undefined) yield* checkDocument(token.value, lineCounter, bounds, errors);
  }
  return errors;
}

function* checkDocument(root: CST.Token, lineCounter: LineCounter, bounds: YamlBounds, errors: RealmError[]): Generator<void, void> {
  const report = (frame: Frame, expected: string, found: string): void => {
    const position = lineCounter.linePos(frame.token.offset);
    errors.push({ path: formatPath(pathOf(frame)), expected, found, line: position.line, column: position.col });
  };
  const stack: Frame[] = [{ token: root, depth: 1, parent: null, segment: null }];
  let nodes = 0;
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    nodes += 1;
    if (nodes % nodesPerStep === 0) yield;
    if (nodes > bounds.nodesMax) {
      const expected = `a document of at most ${bounds.nodesMax} nodes (keys, values and collections)`;
      report(frame, expected, `more than ${bounds.nodesMax} (the next one is here; the rest was not read)`);
      return;
    }
    const { token } = frame;
    if (!CST.isCollection(token)) continue;
    if (frame.depth > bounds.nestingDepthMax) {
      report(frame, `collections nested at most ${bounds.nestingDepthMax} deep`, `one at depth ${frame.depth} (what is inside it was not read)`);
      continue;
    }
    const isMap = token.type === "block-map" || (token.type === "flow-collection" && token.start.source === "{");
    if (isMap) {
      const keys = token.items.reduce((count, item) => (item.key !== undefined || item.sep !== undefined ? count + 1 : count), 0);
      if (keys > bounds.keysPerMapMax) {
        report(frame, `a mapping of at most ${bounds.keysPerMapMax} keys`, `${keys} keys (what is inside it was not read)`);
        continue;
      }
    }
    // Pushed last to first, so nodes are visited (and errors found) in file order.
    for (let index = token.items.length - 1; index >= 0; index--) {
      const item = token.items[index];
      if (item === undefined) continue;
      const segment = isMap ? (item.key ?? null) : index;
      if (item.value !== undefined) stack.push({ token: item.value, depth: frame.depth + 1, parent: frame, segment });
      // A key may itself be a collection (`? [a, b]: c`): it nests and counts like a value.
      if (item.key !== undefined && item.key !== null) stack.push({ token: item.key, depth: frame.depth + 1, parent: frame, segment: item.key });
    }
  }
}

function pathOf(frame: Frame): PathSegment[] {
  const segments: PathSegment[] = [];
  for (let at: Frame | null = frame; at !== null && at.parent !== null; at = at.parent) segments.push(segmentText(at.segment));
  return segments.reverse();
}

function segmentText(segment: Frame["segment"]): PathSegment {
  if (typeof segment === "number") return segment;
  if (segment === null) return "(empty key)";
  return CST.resolveAsScalar(segment)?.value ?? "(complex key)";
}
