/**
 * Token-classification output as transformers' TokenClassificationPipeline gives it: per-token
 * predictions, or words and entities aggregated with its `aggregation_strategy`
 * (none | simple | first | average | max), character offsets into the text, B-/I- prefixes
 * grouped as it groups them, special tokens dropped and the `ignore_labels` (default "O")
 * filtered out. Follows transformers' src/transformers/pipelines/token_classification.py
 * (gather_pre_entities, aggregate, aggregate_word(s), group_sub_entities, group_entities).
 *
 * @example
 * const tokens = scoredTokens(text, encoding, probabilities, tokenizerView(tok));
 * const entities = aggregateEntities(tokens, "simple", labels, (t) => tok.convertTokensToString(t));
 * // [{ entity_group: "LOC", score: 0.98, word: "new york", start: 10, end: 18 }]
 */
import { WhetError } from "../core/errors.js";

/**
 * transformers' TokenClassificationPipeline aggregation strategies, `simple` being predict's default.
 *
 * @example
 * AGGREGATION_STRATEGIES.includes("first"); // true
 */
export const AGGREGATION_STRATEGIES = ["none", "simple", "first", "average", "max"] as const;
export type AggregationStrategy = (typeof AGGREGATION_STRATEGIES)[number];

/** One non-special token of an encoded text, with its class probabilities. */
export interface ScoredToken {
  /** Position in the encoding, special tokens counted (transformers' `index`). */
  index: number;
  /** The vocabulary token ("##gging"); under an unknown token, the text it stands for. */
  token: string;
  scores: Float64Array;
  /** [start, end) in the text; null when the input came as ids (no offsets). */
  start: number | null;
  end: number | null;
  /** Whether it continues the previous token's word (decides what first/average/max merge). */
  isSubword: boolean;
}

/** `aggregation_strategy: "none"`: one entry per token. */
export interface TokenEntity {
  entity: string;
  score: number;
  index: number;
  word: string;
  start: number | null;
  end: number | null;
}

/** A word (first/average/max) before grouping. */
export interface WordEntity {
  entity: string;
  score: number;
  word: string;
  start: number | null;
  end: number | null;
}

/** Adjacent tokens or words of one entity type (every strategy but none). */
export interface EntityGroup {
  entity_group: string;
  score: number;
  word: string;
  start: number | null;
  end: number | null;
}

/** What of the tokenizer the aggregation needs. */
export interface TokenizerView {
  /** WordPiece's "##": tokens then say themselves whether they continue a word. */
  continuingSubwordPrefix: string | null;
  unkTokenId: number | undefined;
  idToToken(id: number): string | undefined;
}

/** What of an encoding the aggregation needs (tokenizers' Encoding fits). */
export interface EncodedText {
  ids: readonly number[];
  specialTokensMask: readonly number[];
  /** Absent for inputs given as ids. */
  offsets?: readonly (readonly [number, number])[];
}

/** Softmax of one row of logits, in float64 (numpy's max-shifted form). */
export function softmax64(row: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > m) m = row[i];
  const out = new Float64Array(row.length);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += out[i] = Math.exp(row[i] - m);
  for (let i = 0; i < row.length; i++) out[i] /= s;
  return out;
}

/** First index of the largest value (numpy's argmax). */
export function argmax(a: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
}

const codePoints = (s: string) => [...s].length;

/**
 * The pipeline's gather_pre_entities: the non-special tokens of `sentence`'s encoding with
 * their probabilities (`probs(i)` for token i) and whether each continues a word. A WordPiece
 * token continues a word when its text is longer than the span it covers ("##gging" over
 * "gging"); other tokenizers use transformers' fallback: no space before or at its start.
 */
export function scoredTokens(
  sentence: string, enc: EncodedText, probs: (i: number) => Float64Array, view: TokenizerView,
): ScoredToken[] {
  const out: ScoredToken[] = [];
  for (let i = 0; i < enc.ids.length; i++) {
    if (enc.specialTokensMask[i]) continue;
    let token = view.idToToken(enc.ids[i]) ?? "";
    let start: number | null = null, end: number | null = null, isSubword = false;
    if (enc.offsets) {
      [start, end] = enc.offsets[i];
      const ref = sentence.slice(start, end);
      isSubword = view.continuingSubwordPrefix
        ? codePoints(token) !== codePoints(ref)
        : start > 0 && !sentence.slice(start - 1, start + 1).includes(" ");
      if (enc.ids[i] === view.unkTokenId) {
        token = ref;
        isSubword = false;
      }
    }
    out.push({ index: i, token, scores: probs(i), start, end, isSubword });
  }
  return out;
}

/** Tokens into words: a new word starts at each token that `continues` says is not a continuation. */
export function groupWords(
  tokens: readonly ScoredToken[], continues: (t: ScoredToken, i: number) => boolean,
): ScoredToken[][] {
  const words: ScoredToken[][] = [];
  tokens.forEach((t, i) => {
    if (words.length > 0 && continues(t, i)) words[words.length - 1].push(t);
    else words.push([t]);
  });
  return words;
}

/** The label and score a word gets from its tokens under first/average/max (aggregate_word). */
export function wordLabel(
  tokens: readonly ScoredToken[], strategy: AggregationStrategy,
): { id: number; score: number } {
  if (strategy === "average") {
    const mean = new Float64Array(tokens[0].scores.length);
    for (const t of tokens) t.scores.forEach((p, k) => (mean[k] += p / tokens.length));
    const id = argmax(mean);
    return { id, score: mean[id] };
  }
  let pick = tokens[0];
  if (strategy === "max") {
    // Python's max(): the first token holding the highest probability.
    for (const t of tokens) if (maxOf(t.scores) > maxOf(pick.scores)) pick = t;
  }
  const id = argmax(pick.scores);
  return { id, score: pick.scores[id] };
}

function maxOf(a: Float64Array): number {
  return a[argmax(a)];
}

/** B-/I- prefix and type; a label without one continues (transformers' get_tag). */
function splitTag(label: string): { bi: "B" | "I"; type: string } {
  if (label.startsWith("B-")) return { bi: "B", type: label.slice(2) };
  if (label.startsWith("I-")) return { bi: "I", type: label.slice(2) };
  return { bi: "I", type: label };
}

function labelOf(labels: readonly string[], id: number): string {
  const l = labels[id];
  if (l === undefined) {
    throw new WhetError(`the model predicted class ${id}, which id2label in config.json does not name`);
  }
  return l;
}

/**
 * The pipeline's output for one text: `strategy` "none" gives one entry per token; the others
 * group adjacent tokens (simple) or words (first/average/max) of one type, a B- tag opening a
 * new group. Entries whose label is in `ignoreLabels` are dropped. `tokensToString` joins token
 * strings as the tokenizer's decoder does (transformers' convert_tokens_to_string).
 */
export function aggregateEntities(
  tokens: readonly ScoredToken[], strategy: AggregationStrategy, labels: readonly string[],
  tokensToString: (tokens: string[]) => string, ignoreLabels: readonly string[] = ["O"],
): (TokenEntity | EntityGroup)[] {
  const ignored = new Set(ignoreLabels);
  let items: (TokenEntity | WordEntity)[];
  if (strategy === "none" || strategy === "simple") {
    items = tokens.map((t) => {
      const id = argmax(t.scores);
      const entity = labelOf(labels, id);
      return { entity, score: t.scores[id], index: t.index, word: t.token, start: t.start, end: t.end };
    });
    if (strategy === "none") return (items as TokenEntity[]).filter((e) => !ignored.has(e.entity));
  } else {
    items = groupWords(tokens, (t) => t.isSubword).map((w) => {
      const { id, score } = wordLabel(w, strategy);
      const word = tokensToString(w.map((t) => t.token));
      return { entity: labelOf(labels, id), score, word, start: w[0].start, end: w[w.length - 1].end };
    });
  }
  return groupEntities(items, tokensToString).filter((g) => !ignored.has(g.entity_group));
}

/** group_entities + group_sub_entities: adjacent items of one type, split at each B-. */
function groupEntities(
  items: readonly (TokenEntity | WordEntity)[], tokensToString: (t: string[]) => string,
): EntityGroup[] {
  const groups: EntityGroup[] = [];
  let run: (TokenEntity | WordEntity)[] = [];
  const close = () => {
    const first = run[0].entity;
    const dash = first.indexOf("-");
    groups.push({
      entity_group: dash < 0 ? first : first.slice(dash + 1),
      score: run.reduce((s, e) => s + e.score, 0) / run.length,
      word: tokensToString(run.map((e) => e.word)),
      start: run[0].start,
      end: run[run.length - 1].end,
    });
  };
  for (const e of items) {
    if (run.length > 0) {
      const cur = splitTag(e.entity), last = splitTag(run[run.length - 1].entity);
      if (cur.type === last.type && cur.bi !== "B") {
        run.push(e);
        continue;
      }
      close();
    }
    run = [e];
  }
  if (run.length > 0) close();
  return groups;
}

/**
 * One tag per word: `words` groups the tokens (by the text's words, or by the input's words for
 * pre-tokenized input). average and max aggregate a word's tokens; the other strategies take its
 * first token's tag, as transformers' run_ner scores words.
 */
export function wordTags(
  words: readonly ScoredToken[][], strategy: AggregationStrategy, labels: readonly string[],
): { tag: string; score: number }[] {
  const s = strategy === "average" || strategy === "max" ? strategy : "first";
  return words.map((w) => {
    const { id, score } = wordLabel(w, s);
    return { tag: labelOf(labels, id), score };
  });
}
