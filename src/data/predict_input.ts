/**
 * The inputs of a prediction run, read as a stream (bounded memory, one record at a time) from
 * JSON Lines, CSV, TSV or plain text. Every record is predicted, in file order, so output line i
 * belongs to input record i: rows are never skipped (an empty text is predicted as one); a row
 * that cannot be read stops the run with its file:line.
 *
 * - JSON Lines: `{"text": …, "text_pair"?: …}`, pre-tokenized `{"tokens": ["New", "York"]}` (token
 *   classification, as training reads it), or `{"input_ids": […], "attention_mask"?, "token_type_ids"?}`.
 * - CSV / TSV: the `--text-column` (and `--text-pair-column`) of each row, with the reader options of
 *   training: `quote` (TSV unquoted unless clearly quoted), `header` (false: columns "0", "1", …).
 * - Plain text (.txt): one text per line; blank lines are texts too, except those ending the file.
 * - CoNLL (.conll): a sentence's words, one per line (the first column; tags are ignored), a blank
 *   line between sentences; `-DOCSTART-` lines and a WikiANN-style "en:" prefix are dropped.
 *
 * @example
 * for await (const r of streamPredictInput("reviews.csv", { textColumn: "review" })) console.log(r.line, r.text);
 */
import { closeSync, openSync, readSync } from "node:fs";
import { extname } from "node:path";
import { Readable, pipeline } from "node:stream";
import { parse } from "csv-parse";
import { WhetError } from "../core/errors.js";
import { streamJsonLines } from "./json_lines.js";
import { streamLines, streamUtf8 } from "./line_stream.js";
import { tsvLooksQuoted } from "./read.js";

export type PredictFormat = "jsonl" | "csv" | "tsv" | "txt" | "conll";
export const PREDICT_FORMATS: readonly PredictFormat[] = ["jsonl", "csv", "tsv", "txt", "conll"];

/** One input: a text (and pair), pre-split words, or token ids; `line` is where it starts. */
export interface PredictInput {
  line: number;
  text?: string;
  textPair?: string;
  words?: string[];
  ids?: { input_ids: number[]; attention_mask?: number[]; token_type_ids?: number[] };
}

export interface PredictInputOptions {
  /** Default: from the extension. */
  format?: PredictFormat;
  /** Column (CSV/TSV) or key (JSON Lines) of the text; default "text". */
  textColumn?: string;
  /** Column or key of the second text; JSON Lines default: "text_pair" where present. */
  textPairColumn?: string;
  /** CSV/TSV quote character, false for none; default as training reads files. */
  quote?: string | false;
  /** false: no header row, columns are "0", "1", … */
  header?: boolean;
  delimiter?: string;
}

/** The format of an input file from its extension; anything else is an error naming --format. */
export function predictFormatFromPath(path: string): PredictFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson" || ext === ".json") return "jsonl";
  if (ext === ".csv") return "csv";
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  if (ext === ".txt" || ext === ".text") return "txt";
  if (ext === ".conll" || ext === ".iob" || ext === ".bio") return "conll";
  throw new WhetError(`Cannot tell the format of "${path}" from its extension "${ext || "(none)"}": ` +
    `predict reads .jsonl, .csv, .tsv, .txt (one text per line) and .conll; ` +
    `pass --format jsonl, csv, tsv, txt or conll`);
}

/** The records of `path`, read as a stream; see the module comment. */
export function streamPredictInput(path: string, o: PredictInputOptions = {}): AsyncGenerator<PredictInput> {
  const format = o.format ?? predictFormatFromPath(path);
  if (format === "jsonl") return jsonlInputs(path, o);
  if (format === "txt") return textInputs(path);
  if (format === "conll") return conllInputs(path);
  return delimitedInputs(path, format === "tsv", o);
}

async function* jsonlInputs(path: string, o: PredictInputOptions): AsyncGenerator<PredictInput> {
  for await (const { value, line } of streamJsonLines(path)) yield jsonlInput(value, line, `${path}:${line}`, o);
}

/** One JSON Lines record as an input: ids, pre-split words or a text (in that order of precedence). */
function jsonlInput(v: Record<string, unknown>, line: number, where: string, o: PredictInputOptions): PredictInput {
  const key = o.textColumn ?? "text";
  const pairKey = o.textPairColumn ?? "text_pair";
  if (Array.isArray(v.input_ids)) {
    const ids = v.input_ids as unknown[];
    if (!ids.every((x) => Number.isInteger(x))) throw new WhetError(`${where}: input_ids must be integers`);
    const mask = v.attention_mask, types = v.token_type_ids;
    const fits = (a: unknown) => a === undefined || (Array.isArray(a) && a.length === ids.length);
    if (!fits(mask) || !fits(types)) {
      throw new WhetError(`${where}: attention_mask and token_type_ids must have ${ids.length} entries like input_ids`);
    }
    const given = { input_ids: ids as number[], attention_mask: mask as number[], token_type_ids: types as number[] };
    return { line, ids: given };
  }
  if (Array.isArray(v.tokens)) {
    const words = v.tokens as unknown[];
    const bad = words.findIndex((w) => typeof w !== "string");
    if (bad >= 0) {
      throw new WhetError(`${where}: "tokens" must hold strings; entry ${bad} is ${JSON.stringify(words[bad])}`);
    }
    return { line, words: words as string[] };
  }
  if (typeof v[key] === "string") {
    const pair = v[pairKey];
    if (pair !== undefined && typeof pair !== "string") throw new WhetError(`${where}: "${pairKey}" must be a string`);
    if (pair === undefined && o.textPairColumn !== undefined) {
      throw new WhetError(`${where}: no "${pairKey}" (--text-pair-column)`);
    }
    return { line, text: v[key] as string, textPair: pair as string | undefined };
  }
  const keys = Object.keys(v).join(", ") || "(none)";
  throw new WhetError(`${where}: expected {"${key}": ...}, {"tokens": [...]} or {"input_ids": [...]}, ` +
    `got keys ${keys}` + (key in v ? ` ("${key}" is not a string)` : "; choose the text key with --text-column"));
}

/** Plain text: every line is a text; blank lines at the end of the file are not. */
async function* textInputs(path: string): AsyncGenerator<PredictInput> {
  const blanks: number[] = [];
  for await (const { text, line } of streamLines(path)) {
    if (text.trim() === "") {
      blanks.push(line);
      continue;
    }
    for (const b of blanks.splice(0)) yield { line: b, text: "" };
    yield { line, text };
  }
}

const LANGUAGE_PREFIX = /^([a-z]{2,3}(?:-[a-z]+)?:)./;

/** CoNLL sentences as pre-tokenized inputs: the first column of each line, sentences split at blank lines. */
async function* conllInputs(path: string): AsyncGenerator<PredictInput> {
  let words: string[] = [];
  let start = 0;
  let prefix: string | null | undefined; // decided by the first token, as WikiANN's files carry it on every one
  for await (const { text, line } of streamLines(path)) {
    if (text.trim() === "" || text.startsWith("-DOCSTART-")) {
      if (words.length > 0) yield { line: start, words };
      words = [];
      continue;
    }
    let word = text.includes("\t") ? text.split("\t")[0] : text.trim().split(/\s+/)[0];
    if (prefix === undefined) prefix = LANGUAGE_PREFIX.exec(word)?.[1] ?? null;
    if (prefix !== null && word.startsWith(prefix)) word = word.slice(prefix.length);
    if (words.length === 0) start = line;
    words.push(word);
  }
  if (words.length > 0) yield { line: start, words };
}

/** Enough of the file's start to decide whether a TSV is quoted, as training decides it. */
function head(path: string, bytes = 1 << 20): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** Records of a CSV/TSV file with the line each starts on. */
async function* delimitedRecords(
  path: string, delimiter: string, quote: string | false,
): AsyncGenerator<{ fields: string[]; line: number }> {
  if (quote === false) {
    // Unquoted, a field holds neither a delimiter nor a newline: lines are records.
    for await (const { text, line } of streamLines(path)) {
      if (text.trim() !== "") yield { fields: text.split(delimiter), line };
    }
    return;
  }
  const parser = parse({
    delimiter, quote, raw: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: false,
  });
  pipeline(Readable.from(streamUtf8(path)), parser, () => undefined);
  let line = 1;
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const start = line;
      for (let i = r.raw.indexOf("\n"); i >= 0; i = r.raw.indexOf("\n", i + 1)) line++;
      if (r.raw.trim() === "") continue;
      yield { fields: r.record.map((f) => (f.endsWith("\r") ? f.slice(0, -1) : f)), line: start };
    }
  } catch (e) {
    if (e instanceof WhetError) throw e;
    const code = (e as { code?: string }).code;
    const what = code === "CSV_QUOTE_NOT_CLOSED" ? "a quoted field opened here is never closed" : (e as Error).message;
    throw new WhetError(`${path}:${line}: ${what}; if " is plain text in this file, pass --no-quote`);
  }
}

/** Where the text (and pair) columns are in the header; a missing one is an error naming the flag. */
function columnsOf(header: string[], path: string, o: PredictInputOptions, textColumn: string): [number, number] {
  const textAt = header.indexOf(textColumn);
  const pairAt = o.textPairColumn === undefined ? -1 : header.indexOf(o.textPairColumn);
  const pairMissing = o.textPairColumn !== undefined && pairAt < 0 ? o.textPairColumn : null;
  const missing = [textAt < 0 ? textColumn : null, pairMissing];
  const names = missing.filter((c) => c !== null).map((c) => JSON.stringify(c));
  if (names.length === 0) return [textAt, pairAt];
  throw new WhetError(`Cannot read "${path}": no column ${names.join(", ")} ` +
    `(columns found: ${header.map((c) => JSON.stringify(c)).join(", ")}); choose it with --text-column` +
    (o.textPairColumn !== undefined ? " / --text-pair-column" : "") +
    (o.header === false ? "" : "; a file without a header row needs --no-header --text-column 0"));
}

async function* delimitedInputs(path: string, tsv: boolean, o: PredictInputOptions): AsyncGenerator<PredictInput> {
  const delimiter = o.delimiter ?? (tsv ? "\t" : ",");
  const quote = o.quote !== undefined ? o.quote : !tsv || tsvLooksQuoted(head(path)) ? "\"" : false;
  const textColumn = o.textColumn ?? (o.header === false ? "0" : "text");
  const hint = tsv && quote !== false ? "; if \" is plain text in this file (GLUE-style TSV), pass --no-quote"
    : `; check the delimiter (${JSON.stringify(delimiter)}) and quoting`;
  let header: string[] | null = null;
  let textAt = -1, pairAt = -1;
  for await (const { fields, line } of delimitedRecords(path, delimiter, quote)) {
    if (header === null) {
      header = o.header === false ? fields.map((_, i) => String(i)) : fields.map((h) => h.trim());
      [textAt, pairAt] = columnsOf(header, path, o, textColumn);
      if (o.header !== false) continue;
    }
    if (fields.length !== header.length) {
      throw new WhetError(`${path}:${line}: expected ${header.length} fields, found ${fields.length}${hint}`);
    }
    yield { line, text: fields[textAt], textPair: pairAt >= 0 ? fields[pairAt] : undefined };
  }
  if (header === null) throw new WhetError(`Cannot read "${path}": the file is empty`);
}
