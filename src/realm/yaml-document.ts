/**
 * YAML text → one yaml Document, in time linear in the text: parsed to tokens, checked against
 * the bounds (yaml-bounds.ts), composed, then checked for repeated keys in one pass. yaml's own
 * repeated-key check (`uniqueKeys`) compares each key with every earlier key of its mapping
 * (quadratic: a mapping of 20,000 keys takes minutes), so it is off and done with a set here.
 */
import { Composer, isMap, isScalar, isSeq, Lexer, LineCounter, Parser, type CST, type Document } from "yaml";
import { describeFound, formatPath, type PathSegment, type RealmError } from "./realm-error.js";
import { checkYamlBounds, realmYamlBounds, type YamlBounds } from "./yaml-bounds.js";

export type YamlReadResult =
  | { ok: true; document: Document.Parsed; lineCounter: LineCounter }
  | { ok: false; errors: RealmError[] };

/** Lexemes between two points where the reader may pause (load.ts's parseRealmDefinitionAsync). */
const lexemesPerStep = 1024;

/** As steps: each `yield` is a point where the caller may give the event loop a turn. */
export function* readYamlDocument(text: string, bounds: YamlBounds = realmYamlBounds): Generator<void, YamlReadResult> {
  const lineCounter = new LineCounter();
  const tokens = yield* parseTokens(text, lineCounter);
  const boundErrors = yield* checkYamlBounds(tokens, lineCounter, bounds);
  if (boundErrors.length > 0) return { ok: false, errors: boundErrors };
  const documents = new Composer({ uniqueKeys: false, prettyErrors: false }).compose(tokens, true, text.length);
  const first = documents.next();
  // compose(…, forceDoc) yields at least one document, even for an empty text.
  if (first.done === true) throw new Error("yaml's composer yielded no document");
  const document = first.value;
  const errors: RealmError[] = document.errors.map((error) => {
    const position = lineCounter.linePos(error.pos[0]);
    return { path: "", expected: "valid YAML", found: firstLine(error.message), line: position.line, column: position.col };
  });
  const second = documents.next();
  if (second.done !== true) {
    const position = lineCounter.linePos(second.value.range[0]);
    errors.push({ path: "", expected: "one YAML document", found: "a second one (after ---)", line: position.line, column: position.col });
  }
  if (errors.length > 0) return { ok: false, errors };
  yield;
  collectRepeatedKeys(document.contents, [], lineCounter, errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, document, lineCounter };
}

/** yaml's Parser.parse, lexeme by lexeme (the way yaml's docs drive it with their own Lexer), in steps. */
function* parseTokens(text: string, lineCounter: LineCounter): Generator<void, CST.Token[]> {
  const tokens: CST.Token[] = [];
  const parser = new Parser(lineCounter.addNewLine);
  // Parser.parse reports the first line's start itself; next() reports only the lines after it.
  lineCounter.addNewLine(0);
  let lexemes = 0;
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    lexemes += 1;
    if (lexemes % lexemesPerStep === 0) yield;
  }
  for (const token of parser.end()) tokens.push(token);
  return tokens;
}

/**
 * A key given twice in one mapping is an error, not "the last one wins". Keys are compared as
 * the JavaScript object will hold them (`1` and `"1"` are one key there). Recursive: the
 * nesting depth is already bounded.
 */
function collectRepeatedKeys(node: unknown, path: PathSegment[], lineCounter: LineCounter, errors: RealmError[]): void {
  if (isSeq(node)) {
    node.items.forEach((item, index) => {
      path.push(index);
      collectRepeatedKeys(item, path, lineCounter, errors);
      path.pop();
    });
    return;
  }
  if (!isMap(node)) return;
  const firstLineOf = new Map<string, number>();
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "(complex key)";
    if (isScalar(pair.key) && pair.key.range !== undefined && pair.key.range !== null) {
      const position = lineCounter.linePos(pair.key.range[0]);
      const firstLine = firstLineOf.get(key);
      if (firstLine === undefined) firstLineOf.set(key, position.line);
      else {
        const expected = `a key given once in its mapping (it is first at line ${firstLine})`;
        errors.push({ path: formatPath([...path, key]), expected, found: `${describeFound(key)} again`, line: position.line, column: position.col });
      }
    }
    path.push(key);
    collectRepeatedKeys(pair.value, path, lineCounter, errors);
    path.pop();
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}
