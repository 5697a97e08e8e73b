// Masked-language-model masking, as transformers' DataCollatorForLanguageModeling and
// DataCollatorForWholeWordMask do it, but drawn from (seed, epoch, example index) so a resumed
// run masks exactly what an uninterrupted one masked:
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/data/data_collator.py
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import type { Example } from "../data/collate.js";

/** Keeps the masking stream apart from other users of the same seed (dropout, data order). */
const MLM_STREAM = 0x6d6c6d;

export interface MaskingOptions {
  /** The [MASK] token's id. */
  maskTokenId: number;
  /** Random replacements are drawn uniformly from [0, vocabSize) (transformers: len(tokenizer)). */
  vocabSize: number;
  /** Ids that are never selected: [CLS], [SEP], [PAD], [UNK]… (the tokenizer's all_special_ids). */
  specialIds: Iterable<number>;
  /** Share of the non-special tokens to predict (default 0.15). */
  mlmProbability?: number;
  /** Select whole words: all pieces of a word are predicted together (needs word ids). */
  wholeWordMasking?: boolean;
  seed: number;
}

export interface Masked {
  input_ids: number[];
  /** The original id where a token is to be predicted, -100 elsewhere. */
  labels: number[];
}

/**
 * Choose the tokens to predict and corrupt them: of the chosen, 80% become [MASK], 10% a random
 * id and 10% stay as they are; labels hold the original ids there and -100 elsewhere.
 *
 * Unlike transformers' per-token Bernoulli draw, exactly round(p · n) tokens are chosen (at least
 * one) among the n non-special tokens, as DataCollatorForWholeWordMask counts them: no example
 * goes without a target, so a batch never averages over zero tokens (a NaN loss).
 *
 * `wordIds` (one per token, null for special tokens) groups the pieces of a word for whole-word
 * masking; words are taken in random order while they fit in the budget, as transformers does.
 *
 * @example
 * const m = maskTokens([2, 71, 9, 3], { maskTokenId: 4, vocabSize: 100, specialIds: [0, 1, 2, 3, 4], seed: 42 }, { epoch: 0, index: 7 });
 * // m.input_ids [2, 4, 9, 3], m.labels [-100, 71, -100, -100] (for some seed)
 */
export function maskTokens(
  ids: readonly number[], o: MaskingOptions, key: { epoch: number; index: number }, wordIds?: readonly (number | null)[],
): Masked {
  const p = o.mlmProbability ?? 0.15;
  if (!(p > 0 && p < 1)) throw new WhetError(`masking: mlm_probability must lie in (0, 1), got ${p}`);
  if (wordIds && wordIds.length !== ids.length) throw new WhetError(`masking: ${ids.length} tokens but ${wordIds.length} word ids`);
  if (o.wholeWordMasking && !wordIds) throw new WhetError("masking: whole-word masking needs the word ids of each token");
  const special = o.specialIds instanceof Set ? (o.specialIds as Set<number>) : new Set(o.specialIds);
  const rng = new Rng(o.seed, key.epoch, key.index, MLM_STREAM);
  // Candidate units: single tokens, or every piece of one word.
  const units: number[][] = [];
  let lastWord: number | null = null;
  ids.forEach((id, t) => {
    if (special.has(id)) {
      lastWord = null;
      return;
    }
    const w = wordIds?.[t] ?? null;
    if (o.wholeWordMasking && w !== null && w === lastWord) units[units.length - 1].push(t);
    else units.push([t]);
    lastWord = w;
  });
  const input = [...ids];
  const labels = new Array<number>(ids.length).fill(-100);
  const n = units.reduce((s, u) => s + u.length, 0);
  if (n === 0) return { input_ids: input, labels };
  const budget = Math.max(1, Math.round(n * p));
  let chosen = 0;
  for (const u of rng.permutation(units.length).map((i) => units[i])) {
    if (chosen >= budget) break;
    // A word that would overshoot is skipped, unless nothing is chosen yet (a long first word).
    if (chosen > 0 && chosen + u.length > budget) continue;
    for (const t of u) {
      labels[t] = ids[t];
      const r = rng.uniform();
      if (r < 0.8) input[t] = o.maskTokenId;
      else if (r < 0.9) input[t] = rng.int(o.vocabSize);
    }
    chosen += u.length;
  }
  return { input_ids: input, labels };
}

/**
 * Word ids from WordPiece pieces: a "##" piece continues the previous word. For token lists
 * without the tokenizer's own word ids (ids read from a file). Special tokens get null.
 */
export function wordIdsFromPieces(tokens: readonly string[], isSpecial: (t: number) => boolean = () => false, prefix = "##"): (number | null)[] {
  let word = -1;
  return tokens.map((tok, t) => {
    if (isSpecial(t)) return null;
    if (!(tok.startsWith(prefix) && word >= 0)) word++;
    return word;
  });
}

/**
 * The Trainer's `transformBatch` for masked-LM training: masks each example from
 * (seed, epoch, its index in the training set). `wordIds(index)` gives an example's word ids
 * for whole-word masking.
 *
 * @example
 * const mask = mlmTransform({
 *   maskTokenId: tok.maskTokenId!, vocabSize: tok.totalVocabSize, specialIds: tok.allSpecialIds, seed: 42,
 * });
 * new Trainer({ model, args, train, labels: "masked_token", task: "masked-lm", transformBatch: mask });
 */
export function mlmTransform(o: MaskingOptions & { wordIds?: (index: number) => readonly (number | null)[] | undefined }) {
  const opts = { ...o, specialIds: new Set(o.specialIds) };
  return (examples: readonly Example[], key: { epoch: number; indices: readonly number[] }): Example[] =>
    examples.map((e, i) => {
      const index = key.indices[i];
      const m = maskTokens(e.input_ids, opts, { epoch: key.epoch, index }, o.wordIds?.(index));
      return { ...e, input_ids: m.input_ids, label: m.labels };
    });
}

/** What `encodeForMlm` needs of a tokenizer (whet's Tokenizer has it). */
export interface MlmTokenizer {
  encodeBatch(texts: readonly string[], pairs: null, o: { addSpecialTokens: boolean; padding: false; truncation: false }): Promise<{ encodings: { ids: number[]; wordIds: (number | null)[] }[] }>;
  clsTokenId: number | undefined;
  sepTokenId: number | undefined;
}

export interface MlmCorpus {
  examples: Example[];
  /** Word ids per example (null on special tokens), unique within an example: for whole-word masking. */
  wordIds: (number | null)[][];
  /** Tokens of text (specials excluded) and documents read. */
  tokens: number;
  documents: number;
}

/**
 * Token sequences for masked-LM training from documents.
 *
 * Default ("group", as transformers' run_mlm.py without --line_by_line): documents are joined
 * with [SEP] between them and cut into blocks of maxLength − 2 tokens, each wrapped as
 * [CLS] block [SEP] — no padding is wasted on short documents (WordNet glosses average ~15
 * tokens). The last, shorter block is kept. "line": one example per document, truncated.
 *
 * @example
 * const corpus = await encodeForMlm(["first document", "second document"], tok, { maxLength: 128 });
 * corpus.examples; // [CLS] block [SEP], blocks packed across documents
 */
export async function encodeForMlm(texts: readonly string[], tok: MlmTokenizer, o: { maxLength: number; mode?: "group" | "line" }): Promise<MlmCorpus> {
  const cls = tok.clsTokenId, sep = tok.sepTokenId;
  if (cls === undefined || sep === undefined) throw new WhetError("masked-LM data: the tokenizer has no [CLS] / [SEP] (cls_token, sep_token) to frame sequences with");
  if (!Number.isInteger(o.maxLength) || o.maxLength < 8) throw new WhetError(`masked-LM data: max_length must be an integer of at least 8, got ${o.maxLength}`);
  const body = o.maxLength - 2;
  const examples: Example[] = [], wordIds: (number | null)[][] = [];
  const push = (ids: number[], words: (number | null)[]) => {
    examples.push({ input_ids: [cls, ...ids, sep], token_type_ids: new Array<number>(ids.length + 2).fill(0) });
    wordIds.push([null, ...words, null]);
  };
  let buf: number[] = [], bufWords: (number | null)[] = [], word = 0, tokens = 0, documents = 0;
  for (let i = 0; i < texts.length; i += 1000) {
    const batch = await tok.encodeBatch(texts.slice(i, i + 1000), null, { addSpecialTokens: false, padding: false, truncation: false });
    for (const e of batch.encodings) {
      if (e.ids.length === 0) continue;
      documents++;
      tokens += e.ids.length;
      if (o.mode === "line") {
        push(e.ids.slice(0, body), e.wordIds.slice(0, body));
        continue;
      }
      if (buf.length > 0) {
        buf.push(sep);
        bufWords.push(null);
      }
      // Word ids restart per document: shift them so no two documents share one.
      let top = word;
      for (let t = 0; t < e.ids.length; t++) {
        buf.push(e.ids[t]);
        const w = e.wordIds[t];
        bufWords.push(w === null ? null : word + w);
        if (w !== null) top = Math.max(top, word + w + 1);
      }
      word = top;
      while (buf.length >= body) {
        push(buf.slice(0, body), bufWords.slice(0, body));
        buf = buf.slice(body);
        bufWords = bufWords.slice(body);
        if (buf[0] === sep) [buf, bufWords] = [buf.slice(1), bufWords.slice(1)];
      }
    }
  }
  if (buf.length > 0) push(buf, bufWords);
  if (examples.length === 0) throw new WhetError("masked-LM data: the corpus has no text");
  return { examples, wordIds, tokens, documents };
}
