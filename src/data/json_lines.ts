import { streamLines } from "./line_stream.js";
import { WhetError } from "../core/errors.js";
import { readTextFile, splitLines } from "./text_file.js";

/** One parsed JSON Lines record and its 1-based line. */
export interface JsonLine {
  value: Record<string, unknown>;
  line: number;
}

/**
 * JSON Lines: one object per non-empty line. Errors name the file and line; anything but an
 * object is refused, since every whet JSONL input is a record.
 */
export function parseJsonLines(text: string, path: string): JsonLine[] {
  const out: JsonLine[] = [];
  splitLines(text).forEach((l, i) => {
    const rec = parseJsonLine(l, path, i + 1);
    if (rec) out.push(rec);
  });
  return out;
}

/** One line's record, or null for a blank line. */
function parseJsonLine(l: string, path: string, line: number): JsonLine | null {
  if (!l.trim()) return null;
  let v: unknown;
  try {
    v = JSON.parse(l);
  } catch (e) {
    throw new WhetError(`${path}:${line}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new WhetError(`${path}:${line}: expected a JSON object, got ${Array.isArray(v) ? "an array" : v === null ? "null" : typeof v}`);
  }
  return { value: v as Record<string, unknown>, line };
}

/**
 * The records of a JSON Lines file as they are read, in bounded memory (a chunk and a line at a
 * time): for inputs too large to hold, such as a prediction run over millions of rows. Same
 * records, lines and errors as `readJsonLines`; invalid UTF-8 is refused with its line.
 *
 * @example
 * for await (const { value, line } of streamJsonLines("big.jsonl")) console.log(line, value.text);
 */
export async function* streamJsonLines(path: string, chunkBytes = 1 << 16): AsyncGenerator<JsonLine> {
  for await (const { text, line } of streamLines(path, chunkBytes)) {
    const rec = parseJsonLine(text, path, line);
    if (rec) yield rec;
  }
}

/** Read (checking UTF-8) and parse a JSON Lines file. */
export async function readJsonLines(path: string): Promise<JsonLine[]> {
  return parseJsonLines(await readTextFile(path), path);
}
