/**
 * A data quality report, computed before training so that problems show up in seconds rather
 * than as a strange validation curve: class balance, duplicated texts, texts carrying
 * conflicting labels, empty texts and how much max_length cuts. The report is plain JSON (saved
 * in the run directory); formatReport renders it for the terminal. Token counts come from a
 * function the caller passes in, so data stays independent of tokenizers.
 *
 * @example
 * const report = buildReport(table.rows, { tokenCount: (t, p) => tok.encode(t, p).ids.length, skipped: table.skipped });
 * console.log(formatReport(report));
 */
import { compareCodePoints } from "./labels.js";
import type { Label, SkippedRows } from "./read.js";

export interface ReportOptions {
  /** Tokens of one example (special tokens included), e.g. from the model's tokenizer. */
  tokenCount?: (text: string, pair?: string) => number;
  /** The max_length the model will be trained with (default 128, the BERT recipe). */
  maxLength?: number;
  /** How many examples to keep per finding (default 5). */
  examples?: number;
  /** The reader's skipped rows, carried into the report. */
  skipped?: SkippedRows;
  /** Rows counted only up to a checked prefix (boundText): their counts are lower bounds. */
  countedInPart?: number;
  /** The problem type the user chose (--problem-type); default: inferred from the labels. */
  problemType?: "single_label_classification" | "multi_label_classification" | "regression";
}

interface Example { text: string; textPair?: string; lines: number[] }

export interface DataReport {
  rows: number;
  skipped: SkippedRows | null;
  /** Classification labels; null when no row has one or the labels are regression targets. */
  labels: {
    classes: number;
    /**
     * Rows per label (multi-label rows count once per label), most frequent first; a list, as
     * a JS object would put integer-like keys first whatever their counts.
     */
    counts: { label: string; rows: number }[];
    /** Largest class count / smallest class count. */
    imbalanceRatio: number;
    unlabelled: number;
  } | null;
  /** Regression targets: set when every label is a number and some have a fraction. */
  targets: { min: number; median: number; max: number; mean: number } | null;
  /** Rows whose text (and pair) repeats an earlier row exactly. */
  duplicates: { rows: number; texts: number; examples: Example[] };
  /** Distinct texts (with pair) that appear with more than one label. */
  conflicts: { texts: number; rows: number; examples: (Example & { labels: string[] })[] };
  /**
   * A label column that writes one label several ways ("1" and "1.0") or mixes numbers with
   * words or booleans ("1", "pos", true): what was found, or null.
   */
  labelSpellings: string | null;
  emptyTexts: number;
  lengths: {
    maxLength: number; min: number; median: number; p95: number; max: number; mean: number;
    /** Rows longer than maxLength, which truncation cuts. */
    truncated: number; truncatedShare: number;
    /** Rows counted only up to their cut (far longer than maxLength): their counts, and max, are lower bounds. */
    countedInPart: number;
  } | null;
  /** Rows whose text (with pair) exceeds OVERSIZED_CHARS characters: a warning each, by line. */
  oversized: { rows: number; examples: { line: number; characters: number }[] };
}

/**
 * A row longer than this many characters (about 25,000 tokens, 50 times BERT's longest input) is
 * almost surely a broken file (a quote left open, a whole document in a cell): each one is named.
 */
export const OVERSIZED_CHARS = 100_000;

/** Rows over OVERSIZED_CHARS characters (text plus pair), with their lines. */
export function oversizedRows(rows: readonly ReportRow[]): { line: number; characters: number }[] {
  const out: { line: number; characters: number }[] = [];
  rows.forEach((r, i) => {
    const characters = r.text.length + (r.textPair?.length ?? 0);
    if (characters > OVERSIZED_CHARS) out.push({ line: r.line ?? i + 1, characters });
  });
  return out;
}

interface ReportRow { text: string; textPair?: string; label?: Label; line?: number }

export function buildReport(rows: readonly ReportRow[], options: ReportOptions = {}): DataReport {
  const keep = options.examples ?? 5;
  const maxLength = options.maxLength ?? 128;
  const lineOf = (i: number) => rows[i].line ?? i + 1;

  // Group rows by exact (text, pair); a pair of undefined and "" are different inputs.
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const key = r.textPair === undefined ? `0${r.text}` : `1${r.text}\u0000${r.textPair}`;
    const g = groups.get(key);
    if (g) g.push(i); else groups.set(key, [i]);
  });
  const example = (g: number[]): Example => {
    const r = rows[g[0]];
    return { text: r.text, ...(r.textPair !== undefined ? { textPair: r.textPair } : {}), lines: g.slice(0, 10).map(lineOf) };
  };
  const duplicates: DataReport["duplicates"] = { rows: 0, texts: 0, examples: [] };
  const conflicts: DataReport["conflicts"] = { texts: 0, rows: 0, examples: [] };
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    duplicates.rows += g.length - 1;
    duplicates.texts++;
    if (duplicates.examples.length < keep) duplicates.examples.push(example(g));
    const labels = [...new Set(g.filter((i) => rows[i].label !== undefined).map((i) => labelKey(rows[i].label!)))];
    if (labels.length > 1) {
      conflicts.texts++;
      conflicts.rows += g.length;
      if (conflicts.examples.length < keep) conflicts.examples.push({ ...example(g), labels: labels.sort(compareCodePoints) });
    }
  }

  const labelled = rows.filter((r) => r.label !== undefined).map((r) => r.label!);
  const regression = options.problemType ? options.problemType === "regression"
    : labelled.length > 0 && labelled.every(isNumber) && labelled.some((l) => !Number.isInteger(Number(l)));
  let labels: DataReport["labels"] = null;
  let targets: DataReport["targets"] = null;
  if (regression) {
    const v = labelled.map(Number).sort((a, b) => a - b);
    targets = { min: v[0], median: quantile(v, 0.5), max: v[v.length - 1], mean: mean(v) };
  } else if (labelled.length > 0) {
    const counts = new Map<string, number>();
    for (const l of labelled) for (const x of Array.isArray(l) ? l : [l]) counts.set(String(x), (counts.get(String(x)) ?? 0) + 1);
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]));
    labels = {
      classes: sorted.length,
      counts: sorted.map(([label, n]) => ({ label, rows: n })),
      imbalanceRatio: sorted.length > 0 ? sorted[0][1] / sorted[sorted.length - 1][1] : 1,
      unlabelled: rows.length - labelled.length,
    };
  }

  let lengths: DataReport["lengths"] = null;
  if (options.tokenCount && rows.length > 0) {
    const counts = rows.map((r) => options.tokenCount!(r.text, r.textPair));
    const truncated = counts.filter((c) => c > maxLength).length;
    counts.sort((a, b) => a - b);
    lengths = {
      maxLength, min: counts[0], median: quantile(counts, 0.5), p95: quantile(counts, 0.95), max: counts[counts.length - 1],
      mean: mean(counts), truncated, truncatedShare: truncated / rows.length, countedInPart: options.countedInPart ?? 0,
    };
  }
  const oversized = oversizedRows(rows);

  return {
    rows: rows.length,
    skipped: options.skipped ?? null,
    labels, targets, duplicates, conflicts, labelSpellings: regression ? null : mixedSpellings(labelled),
    emptyTexts: rows.filter((r) => r.text.trim() === "").length,
    lengths,
    oversized: { rows: oversized.length, examples: oversized.slice(0, 10) },
  };
}

/** A short, human-readable rendering of a report (one finding per line). */
export function formatReport(report: DataReport): string {
  const out: string[] = [];
  const sk = report.skipped;
  const skippedText = sk && sk.count > 0
    ? ` (${num(sk.count)} skipped: ${Object.entries(sk.byReason).map(([r, c]) => `${r} ${num(c)}`).join(", ")})` : "";
  out.push(`Rows: ${num(report.rows)}${skippedText}`);
  if (report.labels) {
    const { classes, counts, imbalanceRatio, unlabelled } = report.labels;
    const total = counts.reduce((a, b) => a + b.rows, 0);
    const shown = counts.slice(0, 10).map((c) => `${c.label} ${num(c.rows)} (${pct(c.rows / total)})`);
    if (classes > 10) shown.push(`… ${classes - 10} more`);
    out.push(`Labels: ${classes} ${classes === 1 ? "class" : "classes"}: ${shown.join(", ")}`);
    // Spellings split one class into several: the ratio then says nothing about balance.
    const advice = report.labelSpellings ? " — not meaningful until the label spellings below are fixed"
      : imbalanceRatio >= 10 ? " — consider class weights or resampling" : "";
    out.push(`Imbalance: ${imbalanceRatio.toFixed(2)} (largest class / smallest)${advice}`);
    if (report.labelSpellings) out.push(`Label spellings: mixed: ${report.labelSpellings} (--strict makes this an error)`);
    if (unlabelled > 0) out.push(`Unlabelled rows: ${num(unlabelled)}`);
  }
  if (report.targets) {
    const t = report.targets;
    out.push(`Targets (regression): min ${round(t.min)}, median ${round(t.median)}, max ${round(t.max)}, mean ${round(t.mean)}`);
  }
  const d = report.duplicates;
  out.push(d.rows === 0 ? "Duplicates: none"
    : `Duplicates: ${num(d.rows)} rows repeat an earlier text (${num(d.texts)} distinct texts), e.g. lines ${d.examples[0].lines.join(", ")}: ${quote(d.examples[0])}`);
  const c = report.conflicts;
  if (c.texts > 0) {
    out.push(`Conflicting labels: ${num(c.texts)} texts (${num(c.rows)} rows) carry different labels, e.g.`);
    for (const e of c.examples.slice(0, 3)) out.push(`  lines ${e.lines.join(", ")}: ${quote(e)} → ${e.labels.join(" / ")}`);
  } else out.push("Conflicting labels: none");
  if (report.emptyTexts > 0) out.push(`Empty texts: ${num(report.emptyTexts)}`);
  const L = report.lengths;
  if (L) {
    const max = L.countedInPart > 0 ? `≥ ${L.max} (${num(L.countedInPart)} long ${L.countedInPart === 1 ? "row" : "rows"} counted up to the cut)` : `${L.max}`;
    out.push(`Length in tokens: min ${L.min}, median ${round(L.median)}, p95 ${round(L.p95)}, max ${max}; ` +
      `${pct(L.truncatedShare)} of rows (${num(L.truncated)}) exceed max_length ${L.maxLength} and will be cut`);
  }
  const o = report.oversized;
  if (o && o.rows > 0) {
    const lines = o.examples.map((e) => `line ${e.line} (${num(e.characters)} characters)`).join(", ");
    out.push(`Oversized rows: ${num(o.rows)} over ${num(OVERSIZED_CHARS)} characters: ${lines}${o.rows > o.examples.length ? ", …" : ""}; ` +
      "only their beginning is tokenized (max_length) — check the file for an unclosed quote");
  }
  return out.join("\n");
}

/** Why the labels look like one label written several ways, or null. */
export function mixedSpellings(labels: readonly Label[]): string | null {
  const byValue = new Map<number, Set<string>>();
  const words = new Set<string>(), bools = new Set<string>();
  for (const l of labels) {
    if (Array.isArray(l)) continue;
    const s = String(l);
    if (isNumber(l)) {
      const v = Number(s);
      if (!byValue.has(v)) byValue.set(v, new Set());
      byValue.get(v)!.add(s);
    } else if (s === "true" || s === "false") bools.add(s);
    else words.add(s);
  }
  const found: string[] = [];
  for (const spellings of byValue.values()) {
    if (spellings.size > 1) found.push(`${[...spellings].map((x) => JSON.stringify(x)).join(" and ")} are one number written differently`);
  }
  const kinds = [byValue.size > 0 && "numbers", words.size > 0 && "words", bools.size > 0 && "booleans"].filter(Boolean);
  if (kinds.length > 1) {
    const eg = [...[...byValue.values()].map((x) => [...x][0]).slice(0, 2), ...[...words].slice(0, 2), ...[...bools].slice(0, 2)];
    found.push(`the column mixes ${kinds.join(" and ")} (${eg.map((x) => JSON.stringify(x)).join(", ")})`);
  }
  return found.length ? `${found.slice(0, 3).join("; ")}; write each label one way` : null;
}

function labelKey(l: Label): string {
  return Array.isArray(l) ? JSON.stringify(l.map(String).sort(compareCodePoints)) : String(l);
}

function isNumber(l: Label): boolean {
  return typeof l === "number" || (typeof l === "string" && l.trim() !== "" && Number.isFinite(Number(l)));
}

/** numpy.quantile's default (linear interpolation between closest ranks) on sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const num = (n: number) => n.toLocaleString("en-US");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const round = (x: number) => String(Math.round(x * 100) / 100);

function quote(e: Example): string {
  const t = e.textPair === undefined ? e.text : `${e.text} ‖ ${e.textPair}`;
  const flat = t.slice(0, 1000).replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 60 ? flat.slice(0, 60) + "…" : flat);
}
