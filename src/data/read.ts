/**
 * readTable: a user's text-classification data (CSV, TSV or JSON Lines) as rows of
 * {text, textPair?, label?, line}. One policy for every row fault: a row that is malformed (bad
 * JSON, not an object, the wrong number of fields, a field of the wrong type) or unusable (empty
 * text, missing label) is skipped and counted by reason, which the data report shows — or stops
 * the read with `strict`. Never dropped silently. Problems of the whole file (encoding, a missing
 * column, an unclosed quote, or most rows malformed: a wrong delimiter) stop with file:line.
 *
 * @example
 * const { rows, skipped } = await readTable("train.csv", { textColumn: "sentence" });
 * // rows[0] = { text: "a charming journey", label: "1", line: 2 }
 */
import { existsSync, statSync } from "node:fs";
import { extname } from "node:path";
import { parse } from "csv-parse/sync";
import { WhetError } from "../core/errors.js";
import { namingFlags, optionName, optionSetting, optionSettings } from "../core/option_names.js";
import { parseJsonLine } from "./json_locate.js";
import { decodeText, readTextFile, type TextEncoding } from "./text_file.js";

export type TableFormat = "csv" | "tsv" | "jsonl";

/** A label as found in the file: CSV gives strings; JSON Lines may give numbers or arrays. */
export type Label = string | number | string[] | number[];

export interface TextRow {
  text: string;
  textPair?: string;
  label?: Label;
  /** 1-based line where the row starts in the file (the header is line 1 in CSV/TSV). */
  line: number;
}

export interface SkippedRows {
  count: number;
  byReason: Record<string, number>;
  /** The first few skipped rows, for the report. */
  examples: { line: number; reason: string }[];
}

export interface Table {
  path: string;
  /** The format read: a TableFormat, or a dataset's own ("trec"). */
  format: TableFormat | "trec";
  /** The header (CSV/TSV) or every key seen (JSON Lines). */
  columns: string[];
  rows: TextRow[];
  skipped: SkippedRows;
}

export interface ReadTableOptions {
  /** Default: from the extension (.csv, .tsv/.tab, .jsonl/.ndjson/.json). */
  format?: TableFormat;
  textColumn?: string;
  textPairColumn?: string;
  /** null: the file has no labels (data to predict on). */
  labelColumn?: string | null;
  /** Multi-label: split a label field such as "sports|politics" into several labels. */
  labelSeparator?: string;
  /** Stop at the first bad row instead of skipping it. */
  strict?: boolean;
  encoding?: TextEncoding;
  /**
   * CSV/TSV quote character; false for unquoted files (GLUE's TSVs, where `"` is plain text).
   * Default: `"` for CSV; for TSV, `"` only when the file is clearly quoted (tsvLooksQuoted).
   */
  quote?: string | false;
  /** false: the file has no header row; columns are then named by position ("0", "1", …). */
  header?: boolean;
  /** CSV/TSV field delimiter; default "," for CSV and tab for TSV. */
  delimiter?: string;
}

const MAX_EXAMPLES = 20;

/** Read a table file; see the module comment. */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<Table> {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new WhetError(`Cannot read "${path}": it is a folder; give a data file (.csv, .tsv or .jsonl)`);
  }
  const format = options.format ?? formatFromPath(path);
  const text = await readTextFile(path, options.encoding ?? "utf-8");
  return parseTable(text, path, { ...options, format });
}

/** Parse a table from bytes or decoded text; `path` only names it in messages and the result. */
export function parseTable(content: string | Uint8Array, path: string, options: ReadTableOptions & { format: TableFormat }): Table {
  const text = typeof content === "string" ? stripBom(content) : decodeText(content, `"${path}"`, options.encoding ?? "utf-8");
  const rows = new RowBuilder(path, options);
  const columns = options.format === "jsonl" ? parseJsonl(text, path, rows) : parseDelimited(text, path, options, rows);
  return { path, format: options.format, columns, rows: rows.rows, skipped: rows.skipped };
}

export function formatFromPath(path: string): TableFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  if (ext === ".jsonl" || ext === ".ndjson" || ext === ".json") return "jsonl";
  if (ext === ".parquet" || ext === ".pq" || ext === ".arrow" || ext === ".feather") {
    throw new WhetError(`Cannot read "${path}": ${ext} files are not read by whet; convert it to CSV or JSON Lines ` +
      `first, e.g. python -c "import pandas as pd; pd.read_parquet('${path}').to_json('data.jsonl', ` +
      `orient='records', lines=True, force_ascii=False)"`);
  }
  throw new WhetError(`Cannot tell the format of "${path}" from its extension "${ext}": ` +
    `pass --format csv, tsv or jsonl (API: format)`);
}

const stripBom = (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);
const quoteList = (names: readonly string[]) => names.map((c) => JSON.stringify(c)).join(", ");

/** Turns raw field values into rows, applying the skip/strict rules in one place for both formats. */
class RowBuilder {
  readonly rows: TextRow[] = [];
  readonly skipped: SkippedRows = { count: 0, byReason: {}, examples: [] };
  readonly textColumn: string;
  readonly labelColumn: string | null;

  constructor(readonly path: string, readonly options: ReadTableOptions) {
    this.textColumn = options.textColumn ?? "text";
    this.labelColumn = options.labelColumn === undefined ? "label" : options.labelColumn;
  }

  /** Columns this read needs, for the missing-column check. */
  required(): string[] {
    const cols = [this.textColumn];
    if (this.options.textPairColumn !== undefined) cols.push(this.options.textPairColumn);
    if (this.labelColumn !== null) cols.push(this.labelColumn);
    return cols;
  }

  checkColumns(found: readonly string[], present: (c: string) => boolean): void {
    const missing = this.required().filter((c) => !present(c));
    if (missing.length === 0) return;
    const which = missing.length === 1 ? `no column ${JSON.stringify(missing[0])}` : `no columns ${quoteList(missing)}`;
    const byPosition = optionSettings(["text_column", "0"], ["label_column", "1"]);
    throw new WhetError(`Cannot read "${this.path}": ${which} (columns found: ${quoteList(found) || "none"}); ` +
      `choose columns with ${optionName("text_column")}, ${optionName("text_pair_column")} and ${optionName("label_column")}` +
      (this.options.header === false ? ` (without a header row the columns are 0, 1, …: ${byPosition})`
        : this.options.format !== "jsonl" ? `; a file without a header row needs ${optionSettings(["header", false], ["text_column", "0"], ["label_column", "1"])}` : "") +
      (namingFlags() ? "" : `; ${optionSetting("label_column", null)} reads unlabelled data`));
  }

  /** `detail`, when given, is the full message strict mode stops with. */
  skip(line: number, reason: string, detail?: string): void {
    if (this.options.strict) throw new WhetError(detail ? `${detail} (strict mode stops at bad rows)` : `${this.path}:${line}: ${reason} (strict mode stops at bad rows)`);
    this.skipped.count++;
    this.skipped.byReason[reason] = (this.skipped.byReason[reason] ?? 0) + 1;
    if (this.skipped.examples.length < MAX_EXAMPLES) this.skipped.examples.push({ line, reason });
  }

  /** `get` returns a field's value, or undefined when the row lacks it. */
  add(line: number, get: (column: string) => unknown): void {
    try {
      this.addRow(line, get);
    } catch (e) {
      if (!(e instanceof RowFault)) throw e;
      this.skip(line, e.reason, e.message);
    }
  }

  private addRow(line: number, get: (column: string) => unknown): void {
    const text = this.textField(line, get(this.textColumn), "text");
    if (text === null) return this.skip(line, "missing text");
    if (text.trim() === "") return this.skip(line, "empty text");
    const row: TextRow = { text, line };
    if (this.options.textPairColumn !== undefined) {
      const pair = this.textField(line, get(this.options.textPairColumn), "text pair");
      if (pair === null) return this.skip(line, "missing text pair");
      if (pair.trim() === "") return this.skip(line, "empty text pair");
      row.textPair = pair;
    }
    if (this.labelColumn !== null) {
      const label = this.label(line, get(this.labelColumn));
      if (label === null) return this.skip(line, "missing label");
      row.label = label;
    }
    this.rows.push(row);
  }

  private textField(line: number, v: unknown, what: string): string | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") throw new RowFault(`${this.path}:${line}: the ${what} must be a string, got ${describe(v)}`, `${what} not a string`);
    return v;
  }

  private label(line: number, v: unknown): Label | null {
    if (v === undefined || v === null || v === "") return null;
    if (typeof v === "boolean") return String(v);
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new RowFault(`${this.path}:${line}: the label must be finite, got ${v}`, "invalid label");
      return v;
    }
    if (typeof v === "string") {
      // Labels are identifiers: "positive " and "positive" must not become two classes.
      const sep = this.options.labelSeparator;
      if (sep === undefined) return v.trim() === "" ? null : v.trim();
      const parts = v.split(sep).map((s) => s.trim()).filter((s) => s !== "");
      return parts.length === 0 ? null : parts;
    }
    // An empty list is a valid multi-label row (no label applies), unlike an empty string.
    if (Array.isArray(v) && (v.every((x) => typeof x === "string") || v.every((x) => typeof x === "number"))) {
      return v as string[] | number[];
    }
    throw new RowFault(`${this.path}:${line}: a label must be a string, a number or a list of either, ` +
      `got ${describe(v)}`, "invalid label");
  }
}

/** A fault of one row: skipped and counted under `reason`, or fatal in strict mode. */
class RowFault extends WhetError {
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

/** More malformed rows than this share of the file is a problem of the file (wrong delimiter, not JSON Lines). */
const MAX_MALFORMED_SHARE = 0.5;

function describe(v: unknown): string {
  const kind = Array.isArray(v) ? "a list" : v === null ? "null" : typeof v;
  const shown = JSON.stringify(v) ?? String(v);
  return `${kind} ${shown.length > 40 ? shown.slice(0, 40) + "…" : shown}`;
}

function parseJsonl(text: string, path: string, rows: RowBuilder): string[] {
  const keys = new Set<string>();
  const seen = new Set<string>(); // required columns present in at least one object
  const required = rows.required();
  const lines = text.split("\n");
  const malformed: string[] = [];
  let objects = 0;
  for (let k = 0; k < lines.length; k++) {
    const src = lines[k].endsWith("\r") ? lines[k].slice(0, -1) : lines[k];
    if (src.trim() === "") continue; // blank lines, including the final newline, are not rows
    const line = k + 1;
    const arrayHint = objects === 0 && src.trimStart().startsWith("[") ? " (expected JSON Lines: one object per line, not an array)" : "";
    let obj: unknown;
    try {
      obj = parseJsonLine(src, path, line, arrayHint);
    } catch (e) {
      // The first line of a file that is one JSON array, or not JSON at all, is the file's problem.
      if (!(e instanceof WhetError) || arrayHint) throw e;
      malformed.push(e.message);
      rows.skip(line, "malformed JSON", e.message);
      continue;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      const message = `${path}:${line}: expected a JSON object per line, got ${describe(obj)}` +
        (objects === 0 && Array.isArray(obj) ? " (expected JSON Lines: one object per line, not an array)" : "");
      if (objects === 0 && Array.isArray(obj)) throw new WhetError(message);
      malformed.push(message);
      rows.skip(line, "not a JSON object", message);
      continue;
    }
    const rec = obj as Record<string, unknown>;
    for (const key of Object.keys(rec)) keys.add(key);
    for (const c of required) if (c in rec) seen.add(c);
    objects++;
    rows.add(line, (c) => (Object.hasOwn(rec, c) ? rec[c] : undefined));
  }
  if (malformed.length > 0 && malformed.length > MAX_MALFORMED_SHARE * (objects + malformed.length)) {
    throw new WhetError(`${malformed[0]}; ${malformed.length} of ${objects + malformed.length} lines are malformed: is "${path}" JSON Lines (one object per line)?`);
  }
  // A column absent from every object is a wrong column name, not a set of bad rows.
  if (objects > 0) rows.checkColumns([...keys], (c) => seen.has(c));
  return [...keys];
}

interface CsvErrorLike { code?: string; lines?: number; message: string }

function parseDelimited(text: string, path: string, options: ReadTableOptions, rows: RowBuilder): string[] {
  const tsv = options.format === "tsv";
  const delimiter = options.delimiter ?? (tsv ? "\t" : ",");
  const quote = options.quote !== undefined ? options.quote : !tsv || tsvLooksQuoted(text) ? "\"" : false;
  const hasHeader = options.header !== false;
  // One record delimiter keeps csv-parse's raw text exact, so line numbers can be counted from it;
  // CRLF inside quoted fields becomes LF as a side effect, which is what a tokenizer wants anyway.
  const body = text.includes("\r\n") ? text.replace(/\r\n/g, "\n") : text;
  let line = 1; // line where the record being parsed starts
  let header: string[] | null = null;
  let index = new Map<string, number>();
  let good = 0;
  const ragged: { line: number; found: number; quoted: boolean }[] = [];
  // With `raw`, csv-parse hands on_record {record, raw}; its typings do not model that.
  const onRecord = (r: unknown): null => {
    const { record, raw } = r as { record: string[]; raw: string };
    const start = line;
    line += countNewlines(raw);
    if (raw.trim() === "") return null; // blank line: not a row (and not a skipped one)
    if (header === null) {
      header = hasHeader ? record.map((h) => h.trim()) : record.map((_, i) => String(i));
      index = new Map(header.map((h, i) => [h, i] as [string, number]).reverse()); // first wins
      rows.checkColumns(header, (c) => index.has(c));
      if (hasHeader) return null;
    }
    // A stray quote at the start of a TSV field swallows the following rows into one field (Python's
    // csv and pandas do that silently); a tab inside a multi-line field is the tell-tale.
    if (tsv && quote !== false && record.some((f) => f.includes("\n") && f.includes("\t"))) {
      throw new WhetError(`${path}:${start}: a quoted field here runs over ${countNewlines(raw)} lines and holds tabs: ` +
        `the quote character is probably plain text in this file (as in GLUE-style TSVs); pass --no-quote (key quote: false)`);
    }
    if (record.length !== header.length) {
      ragged.push({ line: start, found: record.length, quoted: quote !== false && raw.includes(String(quote)) });
      if (options.strict) throw raggedError(path, header, ragged, tsv, delimiter);
      return null;
    }
    good++;
    rows.add(start, (c) => { const i = index.get(c); return i === undefined ? undefined : record[i]; });
    return null;
  };
  try {
    if (quote === false) {
      // Unquoted, a field holds neither a delimiter nor a newline: splitting is exact, and 20× faster.
      for (const l of body.split("\n")) onRecord({ record: l.split(delimiter), raw: `${l}\n` });
    } else parse(body, {
      delimiter, quote, raw: true, record_delimiter: "\n",
      relax_column_count: true, relax_quotes: true, skip_empty_lines: false,
      on_record: onRecord as unknown as (record: string[]) => null,
    });
  } catch (e) {
    if (e instanceof WhetError) throw e;
    throw csvError(e as CsvErrorLike, path, line, tsv);
  }
  if (header === null) throw new WhetError(`Cannot read "${path}": the file is empty; a header row naming the columns is required`);
  // Most rows ragged: the delimiter or quoting is wrong for the file. A few: bad rows, skipped and counted.
  if (ragged.length > 0 && ragged.length > MAX_MALFORMED_SHARE * (good + ragged.length)) throw raggedError(path, header, ragged, tsv, delimiter);
  for (const r of ragged) rows.skip(r.line, "wrong number of fields");
  return header;
}

function raggedError(path: string, h: string[], ragged: { line: number; found: number; quoted: boolean }[], tsv: boolean, delimiter: string): WhetError {
  const first = ragged[0];
  const more = ragged.length > 1 ? ` (${ragged.length} ragged rows in all, at lines ${ragged.slice(0, 10).map((r) => r.line).join(", ")}${ragged.length > 10 ? ", …" : ""})` : "";
  const hint = ragged.some((r) => r.quoted)
    ? tsv ? `; these rows contain quote characters: if the file is not quoted (GLUE-style TSV), pass --no-quote (key quote: false)`
      : `; check the quoting of these rows`
    : `; check the delimiter (${JSON.stringify(delimiter)})`;
  return new WhetError(`${path}:${first.line}: expected ${h.length} fields (${quoteList(h)}), found ${first.found}${more}${hint}`);
}

/**
 * Whether a TSV file uses `"` as a quote character. Most TSVs (GLUE's, Kaggle's, exports of
 * spreadsheets set to "no quoting") hold bare `"` inside texts; reading those as quoted swallows
 * rows. Clearly quoted means: some field is wrapped in quotes and no field holds a quote elsewhere,
 * judged on the first lines (a quoted field running over lines counts as wrapped at its ends).
 */
export function tsvLooksQuoted(text: string, maxLines = 2000): boolean {
  let wrapped = 0;
  let open = false; // inside a quoted field that runs over lines
  let start = 0;
  for (let n = 0; n < maxLines && start < text.length; n++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, "");
    start = end + 1;
    if (!line.includes("\"")) continue;
    for (const f of line.split("\t")) {
      if (!f.includes("\"")) continue;
      const body = f.replace(/""/g, "");
      if (!body.includes("\"")) continue; // "" alone: an empty quoted field, or doubled quotes in plain text
      if (open) {
        if (/^[^"]*"$/.test(body)) { open = false; wrapped++; } else if (body.includes("\"")) return false;
      } else if (/^"[^"]*"$/.test(body)) wrapped++;
      else if (/^"[^"]*$/.test(body)) open = true;
      else return false;
    }
  }
  return wrapped > 0;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

function csvError(e: CsvErrorLike, path: string, recordLine: number, tsv: boolean): WhetError {
  const hint = tsv
    ? "; if the file is not quoted (GLUE-style TSV, where \" is plain text), pass --no-quote (key quote: false)"
    : "; if \" is plain text in this file, pass --no-quote (key quote: false)";
  switch (e.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return new WhetError(`${path}:${recordLine}: a quoted field opened in this row is never closed${hint}`);
    case "CSV_INVALID_CLOSING_QUOTE":
    case "INVALID_OPENING_QUOTE":
      return new WhetError(`${path}:${e.lines ?? recordLine}: misplaced quote character ` +
        `(a quoted field must be closed by "" or the quote right before a delimiter or line end)${hint}`);
    default:
      return new WhetError(`${path}:${e.lines ?? recordLine}: cannot parse: ${e.message}`);
  }
}
