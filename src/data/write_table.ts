/**
 * writeTable: records written as CSV, TSV or JSON Lines — the formats readTable reads back —
 * atomically (a temporary name in the same folder, then a rename), so an interrupted write
 * never leaves half a file under the real name. CSV and TSV fields are quoted only when they
 * must be (a delimiter, a quote, a line break, or white space at either end).
 *
 * @example
 * await writeTable("aug.csv", ["text", "label"], [{ text: "a fine film", label: "1" }]);
 */
import { writeFileAtomic } from "../io/files.js";
import { formatFromPath, type TableFormat } from "./read.js";

export type Cell = string | number | boolean | null | undefined | readonly (string | number)[];

/** Quote a CSV/TSV field when needed (RFC 4180: double the quotes inside). */
export function delimitedField(value: Cell, delimiter: string): string {
  if (value === null || value === undefined) return "";
  const s = Array.isArray(value) ? JSON.stringify(value) : String(value);
  const needs = s.includes(delimiter) || s.includes("\"") || s.includes("\n") || s.includes("\r") || s.trim() !== s;
  return needs ? `"${s.replace(/"/g, "\"\"")}"` : s;
}

/** The file's text; JSON Lines leaves out a record's missing (undefined) cells. */
export function formatTable(format: TableFormat, columns: readonly string[],
  records: readonly Record<string, Cell>[]): string {
  if (format === "jsonl") {
    const json = (r: Record<string, Cell>) =>
      JSON.stringify(Object.fromEntries(columns.filter((c) => r[c] !== undefined).map((c) => [c, r[c]])));
    return records.map((r) => `${json(r)}\n`).join("");
  }
  const d = format === "tsv" ? "\t" : ",";
  const line = (cells: readonly Cell[]) => cells.map((c) => delimitedField(c, d)).join(d);
  return [line(columns), ...records.map((r) => line(columns.map((c) => r[c])))].join("\n") + "\n";
}

/** Write records to `path` in the format its extension names (or `format`). */
export async function writeTable(path: string, columns: readonly string[], records: readonly Record<string, Cell>[],
  format: TableFormat = formatFromPath(path)): Promise<void> {
  await writeFileAtomic(path, [new TextEncoder().encode(formatTable(format, columns, records))]);
}
