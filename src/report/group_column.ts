// The values of a group column (`--group-column`) for the rows a table read kept, matched by line.
import { WhetError } from "../core/errors.js";
import { readJsonLines } from "../data/json_lines.js";
import { readTable, type Table } from "../data/read.js";

/** The value for a row whose group field is empty or absent. */
export const MISSING_GROUP = "(missing)";

/**
 * Group value of each row of `table` (read from `path`): CSV/TSV fields as written, JSON values as
 * text (numbers and booleans too). A column the file lacks is an error listing its columns.
 */
export async function readGroupColumn(path: string, column: string, table: Table,
  flag = "--group-column"): Promise<string[]> {
  if (!table.columns.includes(column)) {
    throw new WhetError(`${flag} "${column}": ${path} has no such column; its columns are: ${table.columns.map((c) => JSON.stringify(c)).join(", ")}`);
  }
  const byLine = new Map<number, string>();
  if (table.format === "jsonl") {
    for (const { value, line } of await readJsonLines(path)) {
      const v = (value as Record<string, unknown>)[column];
      if (v !== undefined && v !== null && v !== "") byLine.set(line,
        typeof v === "object" ? JSON.stringify(v) : String(v));
    }
  } else {
    // Read the column as the text column of a second pass: same parser, same line numbers.
    const groups = await readTable(path, { format: table.format === "trec" ? undefined : table.format,
      textColumn: column, labelColumn: null });
    for (const r of groups.rows) byLine.set(r.line, r.text.trim() || MISSING_GROUP);
  }
  return table.rows.map((r) => byLine.get(r.line) ?? MISSING_GROUP);
}
