/**
 * The data report of `whet inspect`, without training: for a table (label balance, duplicates,
 * conflicts, lengths) or a token-classification file (tag counts, sentences, IOB2 check).
 * Token lengths need a tokenizer, so they appear only when one is given.
 *
 * @example
 * const report = await inspectFile("train.csv", { textColumn: "sentence" }, tokenizer, 128);
 */
import { closeSync, openSync, readSync } from "node:fs";
import { extname } from "node:path";
import { WhetError } from "../core/errors.js";
import { boundText, type Tokenizer } from "../tokenizers/index.js";
import { readConll, type TokenTable } from "./conll.js";
import { readTable, type Table, type TableFormat } from "./read.js";
import { buildReport, quantile, type DataReport } from "./report.js";

export type InspectFormat = TableFormat | "conll";
type Format = InspectFormat;

export interface InspectOptions {
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  labelSeparator?: string;
  /** CSV/TSV quote character, true for `"`, false for none; default: readTable's. */
  quote?: string | boolean;
  /** false: CSV/TSV without a header row (columns "0", "1", …). */
  header?: boolean;
  model?: string;
  maxLength?: number;
  format?: Format;
}

export interface TokenReport {
  task: "token-classification";
  path: string;
  format: "conll" | "jsonl";
  sentences: number;
  tokens: number;
  /** Per tag, most frequent first. */
  tags: { tag: string; count: number }[];
  /** Entities (B- tags, or I- tags that start one) per type, most frequent first. */
  entities: { type: string; count: number }[];
  iob2: TokenTable["iob2"];
  skipped: TokenTable["skipped"];
  strippedPrefix: string | null;
  /** Words per sentence. */
  words: { min: number; median: number; p95: number; max: number; mean: number } | null;
  /** Subword tokens per sentence, special tokens included (only with a model). */
  lengths: DataReport["lengths"];
}

export type TextReport = {
  task: "text-classification"; path: string; format: string; columns: string[]; textColumn: string; labelColumn: string | null;
} & DataReport;

/** csv/tsv/jsonl tables, or CoNLL (and JSON Lines whose first record has a `tokens` array). */
function detectFormat(path: string, given?: Format): Format {
  if (given) return given;
  const ext = extname(path).toLowerCase();
  if (ext === ".csv") return "csv";
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  if ([".jsonl", ".ndjson", ".json"].includes(ext)) return firstJsonHasTokens(path) ? "conll" : "jsonl";
  // .conll, .txt, .iob, WikiANN's extension-less files, WNUT's .annotated…: parseConll reports
  // "expected token<TAB>tag" with the line when a file is not CoNLL after all.
  return "conll";
}

function firstJsonHasTokens(path: string): boolean {
  // The first 64 KiB is enough to find the first record; the file may be gigabytes.
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new WhetError(`reading ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const buf = Buffer.alloc(65536);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const first = buf.subarray(0, n).toString("utf8").split("\n").find((l) => l.trim() !== "");
  try {
    const v = JSON.parse(first ?? "null");
    return typeof v === "object" && v !== null && Array.isArray(v.tokens);
  } catch {
    return false; // malformed JSON: readTable gives the message with the line and column
  }
}

const lengthStats = (counts: number[], maxLength: number, countedInPart = 0): NonNullable<DataReport["lengths"]> => {
  const sorted = [...counts].sort((a, b) => a - b);
  const truncated = counts.filter((c) => c > maxLength).length;
  return {
    maxLength, min: sorted[0], median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, truncated, truncatedShare: truncated / counts.length,
    countedInPart,
  };
};

async function tokenReport(path: string, tok: Tokenizer | null, maxLength: number): Promise<TokenReport> {
  const t = await readConll(path, { format: extname(path).match(/^\.(jsonl|ndjson|json)$/i) ? "jsonl" : "conll" });
  const tagCount = new Map<string, number>(), entityCount = new Map<string, number>();
  let tokens = 0;
  for (const s of t.sentences) {
    tokens += s.tokens.length;
    s.tags.forEach((tag, i) => {
      tagCount.set(tag, (tagCount.get(tag) ?? 0) + 1);
      // An entity starts at B-X, or at an I-X that does not continue X (seqeval's lenient reading).
      const prev = i > 0 ? s.tags[i - 1] : "O";
      const type = tag.slice(2);
      if (tag.startsWith("B-") || (tag.startsWith("I-") && prev.slice(2) !== type)) entityCount.set(type, (entityCount.get(type) ?? 0) + 1);
    });
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const words = t.sentences.map((s) => s.tokens.length);
  let lengths: DataReport["lengths"] = null;
  if (tok && t.sentences.length > 0) {
    // Words joined by spaces, each with a leading space as is_split_into_words gives byte-level
    // BPE (RoBERTa's "Ġ"); WordPiece and SentencePiece split the same either way.
    const counts: number[] = [];
    for (const s of t.sentences) counts.push((await tok.encode(" " + s.tokens.join(" "), null, { addSpecialTokens: true })).ids.length);
    lengths = lengthStats(counts, maxLength);
  }
  const w = words.length ? lengthStats(words, Infinity) : null;
  return {
    task: "token-classification", path, format: t.format, sentences: t.sentences.length, tokens,
    tags: sorted(tagCount).map(([tag, count]) => ({ tag, count })),
    entities: sorted(entityCount).map(([type, count]) => ({ type, count })),
    iob2: t.iob2, skipped: t.skipped, strippedPrefix: t.strippedPrefix,
    words: w && { min: w.min, median: w.median, p95: w.p95, max: w.max, mean: w.mean }, lengths,
  };
}

async function textReport(path: string, format: TableFormat, o: InspectOptions, tok: Tokenizer | null, maxLength: number): Promise<TextReport> {
  const read = (labelColumn: string | null) => readTable(path, {
    format, textColumn: o.textColumn ?? "text", textPairColumn: o.textPairColumn, labelColumn, labelSeparator: o.labelSeparator,
    quote: o.quote === true ? "\"" : o.quote, header: o.header,
  });
  let labelColumn: string | null = o.labelColumn ?? "label";
  let table: Table;
  try {
    table = await read(labelColumn);
  } catch (e) {
    // Unlabelled data (to predict on) is worth a report too, unless a label column was asked for.
    if (o.labelColumn !== undefined || !(e instanceof WhetError) || !e.message.includes(`no column "label"`) || e.message.includes("no columns")) throw e;
    labelColumn = null;
    table = await read(null);
  }
  let tokenCount: ((t: string, p?: string) => number) | undefined;
  let countedInPart = 0;
  if (tok) {
    const counts = new Map<string, number>();
    for (const r of table.rows) {
      const key = `${r.text}\u0000${r.textPair ?? ""}`;
      if (counts.has(key)) continue;
      // A huge row is counted up to a checked prefix: enough to know max_length cuts it.
      const a = await boundText(tok, r.text, maxLength);
      const b = r.textPair === undefined ? null : await boundText(tok, r.textPair, maxLength);
      if (a.cut || b?.cut) countedInPart++;
      counts.set(key, (await tok.encode(a.text, b?.text ?? null, { addSpecialTokens: true })).ids.length);
    }
    tokenCount = (t, p) => counts.get(`${t}\u0000${p ?? ""}`)!;
  }
  const report = buildReport(table.rows, { tokenCount, maxLength, skipped: table.skipped, countedInPart });
  return { task: "text-classification", path, format: table.format, columns: table.columns, textColumn: o.textColumn ?? "text", labelColumn, ...report };
}

const num = (n: number) => n.toLocaleString("en-US");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const round = (x: number) => String(Math.round(x * 100) / 100);

/** The token-classification report for the terminal, one finding per line like formatReport. */
export function formatTokenReport(r: TokenReport): string {
  const out: string[] = [];
  const sk = r.skipped.count > 0 ? ` (${num(r.skipped.count)} skipped: ${Object.entries(r.skipped.byReason).map(([k, v]) => `${k} ${num(v)}`).join(", ")})` : "";
  out.push(`Sentences: ${num(r.sentences)}, ${num(r.tokens)} words${sk}${r.strippedPrefix ? `; prefix "${r.strippedPrefix}" removed from tokens` : ""}`);
  const shown = r.tags.slice(0, 12).map((t) => `${t.tag} ${num(t.count)} (${pct(t.count / r.tokens)})`);
  if (r.tags.length > 12) shown.push(`… ${r.tags.length - 12} more`);
  out.push(`Tags: ${r.tags.length}: ${shown.join(", ")}`);
  out.push(`Entities: ${r.entities.length ? r.entities.map((e) => `${e.type} ${num(e.count)}`).join(", ") : "none"}`);
  const v = r.iob2;
  if (v.violations === 0) out.push("IOB2: valid");
  else {
    out.push(`IOB2: ${num(v.violations)} I- tags do not continue an entity (read as its start), e.g.`);
    for (const e of v.examples.slice(0, 3)) out.push(`  line ${e.line}: ${e.tag} after ${e.previous}`);
  }
  if (v.otherTags.length) out.push(`Tags outside IOB2: ${v.otherTags.join(", ")} (another scheme, e.g. BIOES?)`);
  if (r.words) out.push(`Words per sentence: min ${r.words.min}, median ${round(r.words.median)}, p95 ${round(r.words.p95)}, max ${r.words.max}`);
  const L = r.lengths;
  if (L) {
    out.push(`Length in tokens: min ${L.min}, median ${round(L.median)}, p95 ${round(L.p95)}, max ${L.max}; ` +
      `${pct(L.truncatedShare)} of sentences (${num(L.truncated)}) exceed max_length ${L.maxLength} and will be cut`);
  }
  return out.join("\n");
}

/** The report for a file: CoNLL / token JSON Lines, or a table, by `o.format` or the file's extension and content. */
export async function inspectFile(data: string, o: InspectOptions, tok: Tokenizer | null, maxLength: number): Promise<TextReport | TokenReport> {
  const format = detectFormat(data, o.format);
  return format === "conll" ? tokenReport(data, tok, maxLength) : textReport(data, format, o, tok, maxLength);
}
