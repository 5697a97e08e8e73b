// Entity-level scores for token classification (NER), as Python's seqeval computes them.
// Ported from seqeval 1.2.2, the version `evaluate.load("seqeval")` runs:
//   default mode: https://github.com/chakki-works/seqeval/blob/master/seqeval/metrics/sequence_labeling.py
//     (get_entities, end_of_chunk, start_of_chunk: conlleval's chunking)
//   strict mode:  https://github.com/chakki-works/seqeval/blob/master/seqeval/scheme.py (IOB2, Tokens)
//   averages:     https://github.com/chakki-works/seqeval/blob/master/seqeval/metrics/v1.py
//     (_precision_recall_fscore_support, itself a copy of scikit-learn's)
import { WhetError } from "../core/errors.js";

/**
 * "default": conlleval-compatible chunking (seqeval's default); an I- tag after O, or after a tag
 * of another type, starts a new entity. "strict": seqeval's `mode="strict", scheme=IOB2`; only a
 * B- tag starts an entity and only I- tags of the same type continue it, so a stray I- is no entity.
 */
export type SeqevalMode = "default" | "strict";

/** One entity: its type and token span [start, end) in the sequence it was read from. */
export interface Entity {
  readonly type: string;
  readonly start: number;
  readonly end: number;
}

/** Precision, recall and F1 of one entity type or of an average; support = reference entities. */
export interface EntityScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** What seqeval's `classification_report(..., output_dict=True)` holds, plus token accuracy. */
export interface SeqevalReport {
  /** Per entity type, sorted by name: every type found in the references or the predictions. */
  readonly types: Readonly<Record<string, EntityScores>>;
  /** Counts pooled over types: seqeval's headline precision/recall/F1 (evaluate's overall_*). */
  readonly micro: EntityScores;
  readonly macro: EntityScores;
  readonly weighted: EntityScores;
  /** Fraction of tokens whose tag equals the reference tag, O included (seqeval.accuracy_score). */
  readonly accuracy: number;
}

/**
 * scikit-learn's `precision_recall_fscore_support` from per-label counts, with its default
 * zero_division="warn": a ratio with a zero denominator scores 0.0, and F1 is 0.0 where
 * precision + recall is 0. Shared by metrics.ts so both files follow one convention.
 */
export function prfFromCounts(
  tp: ArrayLike<number>, predicted: ArrayLike<number>, actual: ArrayLike<number>,
  average: "micro" | "macro" | "weighted",
): { precision: number; recall: number; f1: number } {
  let t = Array.from(tp), p = Array.from(predicted), a = Array.from(actual);
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  if (average === "micro") [t, p, a] = [[sum(t)], [sum(p)], [sum(a)]];
  const prec = t.map((x, i) => (p[i] === 0 ? 0 : x / p[i]));
  const rec = t.map((x, i) => (a[i] === 0 ? 0 : x / a[i]));
  // sklearn: denom = beta² · P + R, set to 1 where 0; F = (1 + beta²) · P · R / denom.
  const f1 = prec.map((x, i) => (2 * x * rec[i]) / (x + rec[i] === 0 ? 1 : x + rec[i]));
  if (average === "weighted") {
    const w = sum(a);
    // No reference positives at all: sklearn returns 0.0 for all three (zero_division="warn").
    if (w === 0) return { precision: 0, recall: 0, f1: 0 };
    const avg = (xs: number[]) => sum(xs.map((x, i) => x * a[i])) / w;
    return { precision: avg(prec), recall: avg(rec), f1: avg(f1) };
  }
  // numpy's mean of nothing is NaN: seqeval's macro average when no entity exists anywhere.
  const mean = (xs: number[]) => (xs.length === 0 ? NaN : sum(xs) / xs.length);
  return { precision: mean(prec), recall: mean(rec), f1: mean(f1) };
}

/** seqeval's get_entities split of a chunk into prefix and type: "B-PER" → ["B", "PER"]. */
function splitChunk(chunk: string, where: string): [string, string] {
  if (chunk.length === 0) throw new WhetError(`seqeval: empty tag at ${where}; expected "O" or a tag like "B-PER"`);
  const rest = chunk.slice(1);
  const dash = rest.indexOf("-");
  // Python: chunk[1:].split('-', maxsplit=1)[-1] or '_'
  return [chunk[0], (dash < 0 ? rest : rest.slice(dash + 1)) || "_"];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === "E" || prevTag === "S") return true;
  if ((prevTag === "B" || prevTag === "I") && (tag === "B" || tag === "S" || tag === "O")) return true;
  return prevTag !== "O" && prevTag !== "." && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === "B" || tag === "S") return true;
  if ((prevTag === "E" || prevTag === "S" || prevTag === "O") && (tag === "E" || tag === "I")) return true;
  return tag !== "O" && tag !== "." && prevType !== type;
}

/** conlleval chunking over a flat tag sequence (seqeval.metrics.sequence_labeling.get_entities). */
function defaultEntities(tags: readonly string[], where: (i: number) => string): Entity[] {
  let prevTag = "O", prevType = "", begin = 0;
  const out: Entity[] = [];
  // A trailing "O" closes an entity that runs to the end of the sequence.
  for (let i = 0; i <= tags.length; i++) {
    const [tag, type] = i < tags.length ? splitChunk(tags[i], where(i)) : ["O", "_"];
    if (endOfChunk(prevTag, tag, prevType, type)) out.push({ type: prevType, start: begin, end: i });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return out;
}

/**
 * seqeval's strict IOB2 reading of one sentence (scheme.Tokens with IOB2): an entity is a B-X
 * followed by the longest run of I-X. Every tag must be O, B-… or I-…, as seqeval's is_valid demands.
 */
function strictEntities(tags: readonly string[], where: (i: number) => string): Entity[] {
  const parsed = tags.map((t, i) => {
    if (t.length === 0 || !"BIO".includes(t[0])) {
      throw new WhetError(`seqeval strict IOB2: invalid tag "${t}" at ${where(i)}; IOB2 allows only "O", "B-…" and "I-…"`);
    }
    // scheme.Token.tag: token[1:].strip('-') or '_'
    return { prefix: t[0], type: t.slice(1).replace(/^-+|-+$/g, "") || "_" };
  });
  const out: Entity[] = [];
  for (let i = 0; i < parsed.length;) {
    if (parsed[i].prefix !== "B") { i++; continue; }
    let end = i + 1;
    while (end < parsed.length && parsed[end].prefix === "I" && parsed[end].type === parsed[i].type) end++;
    // IOB2's end patterns accept whatever follows (O, B-, or I- of another type): always an entity.
    out.push({ type: parsed[i].type, start: i, end });
    i = end;
  }
  return out;
}

/**
 * The entities of one tag sequence.
 *
 * @example
 * entities(["B-PER", "I-PER", "O", "I-LOC"]);           // PER [0, 2), LOC [3, 4)
 * entities(["B-PER", "I-PER", "O", "I-LOC"], "strict"); // PER [0, 2) only
 */
export function entities(tags: readonly string[], mode: SeqevalMode = "default"): Entity[] {
  const where = (i: number) => `position ${i}`;
  return mode === "strict" ? strictEntities(tags, where) : defaultEntities(tags, where);
}

/** Entities of every sentence, keyed by type, each as a string unique within the corpus. */
function corpusEntities(sentences: readonly (readonly string[])[], mode: SeqevalMode, side: string): Map<string, Set<string>> {
  const byType = new Map<string, Set<string>>();
  const add = (sentence: number, e: Entity) => {
    let set = byType.get(e.type);
    if (!set) byType.set(e.type, (set = new Set()));
    set.add(`${sentence}:${e.start}:${e.end}`);
  };
  if (mode === "strict") {
    sentences.forEach((s, n) => {
      for (const e of strictEntities(s, (i) => `${side} sentence ${n}, position ${i}`)) add(n, e);
    });
  } else {
    // seqeval joins the sentences with an "O" after each and chunks once; keep that exactly,
    // since a bare tag such as "B" (type "_") reads differently after the joining "O".
    const flat: string[] = [];
    const origin: string[] = [];
    sentences.forEach((s, n) => {
      s.forEach((t, i) => { flat.push(t); origin.push(`${side} sentence ${n}, position ${i}`); });
      flat.push("O");
      origin.push(`${side} sentence ${n}, end`);
    });
    for (const e of defaultEntities(flat, (i) => origin[i])) add(0, e);
  }
  return byType;
}

/**
 * Entity-level precision, recall and F1 per type and averaged, as seqeval's classification_report
 * computes them (and evaluate's "seqeval" metric returns: its overall_precision, overall_recall,
 * overall_f1 are `micro`, its overall_accuracy is `accuracy`).
 *
 * @example
 * const r = seqevalReport([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]]);
 * r.micro.f1; // 0: the predicted PER spans one token, the reference two
 */
export function seqevalReport(
  references: readonly (readonly string[])[], predictions: readonly (readonly string[])[],
  opts: { mode?: SeqevalMode } = {},
): SeqevalReport {
  const mode = opts.mode ?? "default";
  if (references.length !== predictions.length) {
    throw new WhetError(`seqeval: ${references.length} reference sentences but ${predictions.length} predicted sentences`);
  }
  let tokens = 0, correct = 0;
  references.forEach((ref, n) => {
    const pred = predictions[n];
    if (ref.length !== pred.length) {
      throw new WhetError(`seqeval: sentence ${n} has ${ref.length} reference tags but ${pred.length} predicted tags`);
    }
    tokens += ref.length;
    for (let i = 0; i < ref.length; i++) if (ref[i] === pred[i]) correct++;
  });
  if (tokens === 0) throw new WhetError("seqeval: no tokens to score (every sentence is empty)");

  const truth = corpusEntities(references, mode, "reference");
  const guess = corpusEntities(predictions, mode, "predicted");
  const names = [...new Set([...truth.keys(), ...guess.keys()])].sort();
  const tp: number[] = [], predicted: number[] = [], actual: number[] = [];
  const types: Record<string, EntityScores> = {};
  for (const name of names) {
    const t = truth.get(name) ?? new Set<string>(), g = guess.get(name) ?? new Set<string>();
    let hit = 0;
    for (const key of g) if (t.has(key)) hit++;
    tp.push(hit); predicted.push(g.size); actual.push(t.size);
    types[name] = { ...prfFromCounts([hit], [g.size], [t.size], "macro"), support: t.size };
  }
  const support = actual.reduce((s, x) => s + x, 0);
  const avg = (a: "micro" | "macro" | "weighted") => ({ ...prfFromCounts(tp, predicted, actual, a), support });
  return { types, micro: avg("micro"), macro: avg("macro"), weighted: avg("weighted"), accuracy: correct / tokens };
}
