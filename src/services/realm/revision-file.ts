import type { Revision } from "../../protocols/realm/messages.js";
import { checksum } from "../../wire/checksum.js";

/**
 * One deployed revision in one file, readable by an operator with `cat`: a JSON header line,
 * then the definition exactly as deployed.
 *
 *   {"format":1,"number":3,"hash":"9f2c…","characters":1234,"checksum":305419896}
 *   sites:
 *     - name: main
 *   …
 *
 * The checksum (CRC-32 of the header's other fields and the text) finds bit flips; the file is
 * written with writeAtomic, so a crash leaves either the whole file or none of it.
 */
const format = 1;

/** `revision-000000000003`: names sort in revision order. */
export function revisionFileName(number: number): string {
  return `revision-${String(number).padStart(12, "0")}`;
}

/** The revision number a file name stands for, or null for any other file. */
export function revisionNumberOf(name: string): number | null {
  const match = /^revision-(\d{12})$/.exec(name);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export function encodeRevision(revision: Revision): Uint8Array {
  const header = { format, number: revision.number, hash: revision.hash, characters: revision.text.length };
  const sum = checksumOf(header, revision.text);
  return new TextEncoder().encode(`${JSON.stringify({ ...header, checksum: sum })}\n${revision.text}`);
}

export type DecodedRevision = { ok: true; revision: Revision } | { ok: false; problem: string };

export function decodeRevision(bytes: Uint8Array, expectedNumber: number): DecodedRevision {
  let content: string;
  try {
    content = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, problem: "not UTF-8 text" };
  }
  const newline = content.indexOf("\n");
  if (newline < 0) return { ok: false, problem: "no header line" };
  let header: unknown;
  try {
    header = JSON.parse(content.slice(0, newline));
  } catch {
    return { ok: false, problem: "a header line that is not JSON" };
  }
  if (!isHeader(header)) return { ok: false, problem: "a header without format 1, number, hash, characters and checksum" };
  const text = content.slice(newline + 1);
  if (header.number !== expectedNumber) return { ok: false, problem: `revision ${header.number} in the file of revision ${expectedNumber}` };
  if (text.length !== header.characters) return { ok: false, problem: `${text.length} characters of definition, the header says ${header.characters}` };
  const { checksum: stored, ...fields } = header;
  if (checksumOf(fields, text) !== stored) return { ok: false, problem: "a checksum mismatch (damaged on disk)" };
  return { ok: true, revision: { number: header.number, hash: header.hash, text } };
}

interface Header {
  format: number;
  number: number;
  hash: string;
  characters: number;
  checksum: number;
}

function isHeader(value: unknown): value is Header {
  if (value === null || typeof value !== "object") return false;
  const header = value as Record<string, unknown>;
  return header.format === format && Number.isSafeInteger(header.number) && typeof header.hash === "string" && Number.isSafeInteger(header.characters) && Number.isSafeInteger(header.checksum);
}

function checksumOf(header: Omit<Header, "checksum">, text: string): number {
  const encoder = new TextEncoder();
  return checksum(encoder.encode(text), checksum(encoder.encode(`${header.format} ${header.number} ${header.hash} ${header.characters}`)));
}
