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
    if (!l.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new WhetError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new WhetError(`${path}:${i + 1}: expected a JSON object, got ${Array.isArray(v) ? "an array" : v === null ? "null" : typeof v}`);
    out.push({ value: v as Record<string, unknown>, line: i + 1 });
  });
  return out;
}

/** Read (checking UTF-8) and parse a JSON Lines file. */
export async function readJsonLines(path: string): Promise<JsonLine[]> {
  return parseJsonLines(await readTextFile(path), path);
}
