/**
 * EDA, "Easy Data Augmentation" (Wei & Zou 2019, https://arxiv.org/abs/1901.11196): four word-level
 * operations, each making n = max(1, floor(alpha * words)) changes to a sentence —
 * synonym replacement (SR, a random non-stop word with a WordNet synonym, every occurrence),
 * random insertion (RI, a synonym of a random word at a random place), random swap (RS, two
 * words trade places) and random deletion (RD, each word with probability p_rd). As in the
 * paper's code, num_aug sentences are drawn from floor(num_aug / 4) + 1 per operation, shuffled.
 * Two differences, on purpose: every operation makes at least one change when it can (the
 * reference's deletion may delete nothing, its swap may swap a word with itself), and outputs
 * identical to the input or to each other are dropped rather than returned. The text keeps its
 * case and punctuation (see word_split.ts). Deterministic: a row's outputs depend only on
 * (seed, row index).
 *
 * @example
 * const th = await Thesaurus.load();
 * eda("The film was a delight from start to finish.", th, { seed: 1, row: 0 });
 * // ["The film was a delight from start to end.", "The film was delight from start to finish.", …]
 */
import { Rng } from "../../core/rng.js";
import { checkCount, checkUnit } from "./augment_spec.js";
import { STOP_WORDS } from "./stop_words.js";
import type { Thesaurus } from "./thesaurus.js";
import { joinWords, matchCase, splitWords, wordIndices, type WordToken } from "./word_split.js";

export interface EdaOptions {
  /** Share of words replaced by a synonym (default 0.1; 0 turns SR off). */
  alpha_sr?: number;
  /** Share of words inserted (default 0.1). */
  alpha_ri?: number;
  /** Share of words swapped (default 0.1). */
  alpha_rs?: number;
  /** Probability of deleting each word (default 0.1). */
  p_rd?: number;
  /** Augmented sentences per input (default 4). */
  num_aug?: number;
}

/**
 * @example
 * eda("the film was good", thesaurus, { ...EDA_DEFAULTS, num_aug: 2, seed: 42, row: 0 });
 */
export const EDA_DEFAULTS: Required<EdaOptions> = {
  alpha_sr: 0.1, alpha_ri: 0.1, alpha_rs: 0.1, p_rd: 0.1, num_aug: 4,
};

/** Check the knobs up front; `flag` spells a knob as the caller's user typed it. */
export function resolveEdaOptions(o: EdaOptions, flag: (name: string) => string = (n) => n): Required<EdaOptions> {
  const r = { ...EDA_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  for (const k of ["alpha_sr", "alpha_ri", "alpha_rs", "p_rd"] as const) checkUnit("EDA", flag(k), r[k]);
  checkCount("EDA", flag("num_aug"), r.num_aug);
  return r;
}

const isStop = (w: string) => {
  const l = w.toLowerCase();
  return STOP_WORDS.has(l) || STOP_WORDS.has(l.split(/['’]/)[0]);
};

/** Synonym replacement on tokens, in place; returns how many distinct words were replaced. */
export function synonymReplace(tokens: WordToken[], n: number, th: Thesaurus, rng: Rng, singleWord = false): number {
  const words = [...new Set(wordIndices(tokens).map((i) => tokens[i].word.toLowerCase()).filter((w) => !isStop(w)))];
  let replaced = 0;
  for (const k of rng.permutation(words.length)) {
    if (replaced >= n) break;
    const syns = th.synonyms(words[k], { singleWord });
    if (syns.length === 0) continue;
    const pick = syns[rng.int(syns.length)];
    for (const t of tokens) if (t.word.toLowerCase() === words[k]) t.word = matchCase(t.word, pick);
    replaced++;
  }
  return replaced;
}

function randomInsert(tokens: WordToken[], n: number, th: Thesaurus, rng: Rng): number {
  let inserted = 0;
  for (let i = 0; i < n; i++) {
    const candidates = wordIndices(tokens).filter((j) => !isStop(tokens[j].word));
    // The reference tries ten random words for one with a synonym; so do we.
    for (let attempt = 0; attempt < 10 && candidates.length > 0; attempt++) {
      const syns = th.synonyms(tokens[candidates[rng.int(candidates.length)]].word);
      if (syns.length === 0) continue;
      tokens.splice(rng.int(tokens.length + 1), 0, { pre: "", word: syns[rng.int(syns.length)], post: "" });
      inserted++;
      break;
    }
  }
  return inserted;
}

/** Swap the words of two tokens (punctuation stays in place); words that are equal do not count. */
function randomSwap(tokens: WordToken[], n: number, rng: Rng): number {
  const idx = wordIndices(tokens);
  if (new Set(idx.map((i) => tokens[i].word)).size < 2) return 0;
  let swapped = 0;
  for (let i = 0; i < n; i++) {
    const a = idx[rng.int(idx.length)];
    let b = a;
    // The reference gives up after three tries; two distinct words exist, so we keep drawing.
    while (tokens[b].word === tokens[a].word) b = idx[rng.int(idx.length)];
    [tokens[a].word, tokens[b].word] = [tokens[b].word, tokens[a].word];
    swapped++;
  }
  return swapped;
}

/** Delete each word token with probability p; at least one, never all. */
function randomDelete(tokens: WordToken[], p: number, rng: Rng): WordToken[] {
  const idx = wordIndices(tokens);
  if (idx.length < 2) return tokens;
  let gone = new Set(idx.filter(() => rng.uniform() < p));
  if (gone.size === 0) gone = new Set([idx[rng.int(idx.length)]]);
  if (gone.size === idx.length) gone.delete(idx[rng.int(idx.length)]);
  // Sentence-final punctuation of a deleted word moves to the word before it ("was great!" -> "was!").
  const out: WordToken[] = [];
  tokens.forEach((t, i) => {
    if (!gone.has(i)) out.push({ ...t });
    else if (/[.!?]$/.test(t.post) && out.length > 0) out[out.length - 1].post += t.post;
  });
  return out;
}

type Operation = "sr" | "ri" | "rs" | "rd";

/** One EDA operation applied to a fresh copy of the sentence's tokens. */
export function edaOperation(text: string, op: Operation, o: Required<EdaOptions>, th: Thesaurus, rng: Rng): string {
  let tokens = splitWords(text);
  const nWords = wordIndices(tokens).length;
  const count = (alpha: number) => Math.max(1, Math.floor(alpha * nWords));
  if (op === "sr") synonymReplace(tokens, count(o.alpha_sr), th, rng);
  else if (op === "ri") randomInsert(tokens, count(o.alpha_ri), th, rng);
  else if (op === "rs") randomSwap(tokens, count(o.alpha_rs), rng);
  else tokens = randomDelete(tokens, o.p_rd, rng);
  return joinWords(tokens);
}

/** Up to num_aug distinct augmented sentences, none equal to the input. */
export function eda(text: string, th: Thesaurus, o: EdaOptions & { seed: number; row: number }): string[] {
  const opts = resolveEdaOptions(o);
  const rng = new Rng(o.seed, o.row, 0xeda);
  const perOp = Math.floor(opts.num_aug / 4) + 1;
  const active: [Operation, number][] = [
    ["sr", opts.alpha_sr], ["ri", opts.alpha_ri], ["rs", opts.alpha_rs], ["rd", opts.p_rd],
  ];
  const made: string[] = [];
  for (const [op, knob] of active) {
    if (knob <= 0) continue;
    for (let k = 0; k < perOp; k++) made.push(edaOperation(text, op, opts, th, rng));
  }
  const original = joinWords(splitWords(text));
  const distinct = [...new Set(made)].filter((s) => s !== original && s !== text);
  return rng.permutation(distinct.length).slice(0, opts.num_aug).map((i) => distinct[i]);
}
