import { readFileSync, writeFileSync } from "node:fs";

/** The markers around the part of docs/benchmarks.md that `npm run bench:compare` owns. */
export const sectionBegin = "<!-- bench:compare begin: written by `npm run bench:compare`; edits inside are replaced -->";
export const sectionEnd = "<!-- bench:compare end -->";

/** The document with its bench:compare section replaced by `section` (appended if absent). */
export function replaceSection(document: string, section: string): string {
  const block = `${sectionBegin}\n${section.trim()}\n${sectionEnd}`;
  const begin = document.indexOf(sectionBegin);
  const end = document.indexOf(sectionEnd);
  if (begin >= 0 && end > begin) return `${document.slice(0, begin)}${block}${document.slice(end + sectionEnd.length)}`;
  return `${document.trimEnd()}\n\n${block}\n`;
}

export function writeBenchmarksSection(file: string, section: string): void {
  writeFileSync(file, replaceSection(readFileSync(file, "utf8"), section));
}
