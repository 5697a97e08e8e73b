/**
 * Apply an augmentation spec to rows: every original row is kept, augmented rows follow with the
 * label of their source row and a provenance string (`eda:12` = made by EDA from row 12, 0-based;
 * `template:3` = from template 3; originals say `original`); an augmented text (with its pair)
 * equal to any text already present is dropped. Used by `whet augment` and by the fine-tuning
 * recipe's `augment:` block, which applies it to the training split only.
 *
 * Text pairs: `pair: "first"` (default) augments the first text and keeps the second; `"both"`
 * augments each independently and pairs the k-th outputs. Token classification: only methods that
 * keep one tag per token are accepted — EDA's synonym replacement with one-word synonyms, applied
 * to tokens tagged "O" (entity names stay as they are), and code-switching (word for word).
 *
 * @example
 * const out = await augmentTextRows(table.rows, parseAugmentSpec({ method: "eda" }), { seed: 42 });
 * out.summary; // { method: "eda", rows_before: 200, rows_after: 987, added: 787, duplicates_dropped: 13 }
 */
import { WhetError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import type { TokenRow } from "../conll.js";
import type { TextRow } from "../read.js";
import type { AugmentSpec } from "./augment_spec.js";
import {
  codeSwitch, readMuseDictionary, resolveCodeSwitchOptions, switchWords,
  type BilingualDictionary, type CodeSwitchOptions,
} from "./code_switch.js";
import { eda, resolveEdaOptions, synonymReplace } from "./eda.js";
import { generateFromTemplates, readTemplates } from "./templates.js";
import { Thesaurus } from "./thesaurus.js";
import { joinWords, splitWords } from "./word_split.js";

export interface AugmentedTextRow extends TextRow { provenance: string }
export interface AugmentedTokenRow extends TokenRow { provenance: string }

/** Rows before and after one method, for the data report and the run record. */
export interface AugmentSummary {
  method: string;
  rows_before: number;
  rows_after: number;
  added: number;
  duplicates_dropped: number;
}

export interface AugmentContext {
  seed: number;
  /** Spells an option as the user typed it, for messages (see parseAugmentSpec). */
  flag?: (key: string) => string;
  /** Back-translation: turns texts into their round-trip translations (one list per text). */
  backTranslate?: (texts: string[]) => Promise<string[][]>;
}

/** A text's augmented versions; `key` keeps the random streams of different texts apart. */
type TextAugmenter = (texts: string[], keys: number[]) => Promise<string[][]>;

async function textAugmenter(spec: AugmentSpec, ctx: AugmentContext): Promise<TextAugmenter> {
  const flag = ctx.flag ?? ((k: string) => k);
  switch (spec.method) {
    case "eda": {
      resolveEdaOptions(spec, flag);
      const th = await Thesaurus.load();
      return async (texts, keys) => texts.map((t, i) => eda(t, th, { ...spec, seed: ctx.seed, row: keys[i] }));
    }
    case "code-switch": {
      resolveCodeSwitchOptions(spec, flag);
      const dicts = await loadDictionaries(spec.dictionaries ?? []);
      return async (texts, keys) =>
        texts.map((t, i) => codeSwitch(t, dicts, { ...spec, seed: ctx.seed, row: keys[i] }));
    }
    case "back-translation": {
      const bt = ctx.backTranslate;
      if (!bt) {
        throw new WhetError("back-translation needs a translation function (AugmentContext.backTranslate); " +
          "whet augment and the fine-tuning recipe pass one that runs MarianMT (models/back_translate.ts)");
      }
      // A round trip that comes back unchanged (or empty) adds nothing.
      return async (texts) => (await bt(texts)).map((outs, i) => outs.filter((o) => o.trim() !== "" && o !== texts[i]));
    }
    default:
      throw new WhetError(`method "${spec.method}" does not rewrite rows`);
  }
}

/** `path` or `lang=path`. */
export async function loadDictionaries(specs: readonly string[]): Promise<BilingualDictionary[]> {
  const out: BilingualDictionary[] = [];
  for (const s of specs) {
    const m = /^([A-Za-z_-]+)=(.+)$/.exec(s);
    out.push(await readMuseDictionary(m ? m[2] : s, m ? m[1] : undefined));
  }
  return out;
}

function summarize(method: string, before: number, after: number, dropped: number): AugmentSummary {
  return { method, rows_before: before, rows_after: after, added: after - before, duplicates_dropped: dropped };
}

const pairKey = (r: { text: string; textPair?: string }) => `${r.text}\u0000${r.textPair ?? ""}`;

/** Originals, then augmented rows (source order), duplicates of any earlier text dropped. */
export async function augmentTextRows(rows: readonly TextRow[], spec: AugmentSpec, ctx: AugmentContext):
  Promise<{ rows: AugmentedTextRow[]; summary: AugmentSummary }> {
  const out: AugmentedTextRow[] = rows.map((r) => ({ ...r, provenance: "original" }));
  const seen = new Set(rows.map(pairKey));
  let dropped = 0;
  const push = (r: AugmentedTextRow) => {
    if (seen.has(pairKey(r))) dropped++;
    else { seen.add(pairKey(r)); out.push(r); }
  };
  if (spec.method === "template") {
    const set = await readTemplates(spec.templates!);
    for (const g of generateFromTemplates(set, { seed: ctx.seed, maxPerTemplate: spec.max_per_template })) {
      push({ text: g.text, label: g.label, line: 0, provenance: `template:${g.template}` });
    }
  } else {
    const augment = await textAugmenter(spec, ctx);
    const firsts = await augment(rows.map((r) => r.text), rows.map((_, i) => i));
    const both = spec.pair === "both" && rows.some((r) => r.textPair !== undefined);
    // Second texts draw from streams of their own (negative keys): "both" leaves the first texts as "first" makes them.
    const seconds = both ? await augment(rows.map((r) => r.textPair ?? ""), rows.map((_, i) => -1 - i)) : null;
    rows.forEach((r, i) => {
      const n = Math.max(firsts[i].length, seconds && r.textPair !== undefined ? seconds[i].length : 0);
      for (let k = 0; k < n; k++) {
        const text = firsts[i][k] ?? r.text;
        const textPair = seconds && r.textPair !== undefined ? seconds[i][k] ?? r.textPair : r.textPair;
        push({ ...r, text, ...(textPair === undefined ? {} : { textPair }), provenance: `${spec.method}:${i}` });
      }
    });
  }
  return { rows: out, summary: summarize(spec.method, rows.length, out.length, dropped) };
}

/**
 * Token classification: see the module comment for what keeps tags aligned.
 *
 * @example
 * const spec = parseAugmentSpec({ method: "eda", num_aug: 2 });
 * const { rows, summary } = await augmentTokenRows(sentences, spec, { seed: 42 }); // tags stay on their tokens
 */
export async function augmentTokenRows(rows: readonly TokenRow[], spec: AugmentSpec, ctx: AugmentContext):
  Promise<{ rows: AugmentedTokenRow[]; summary: AugmentSummary }> {
  const flag = ctx.flag ?? ((k: string) => k);
  const variants = await tokenAugmenter(spec, flag, ctx.seed);
  const out: AugmentedTokenRow[] = rows.map((r) => ({ ...r, provenance: "original" }));
  const seen = new Set(rows.map((r) => r.tokens.join("\u0000")));
  let dropped = 0;
  rows.forEach((r, i) => {
    for (const tokens of variants(r, i)) {
      const key = tokens.join("\u0000");
      if (seen.has(key)) { dropped++; continue; }
      seen.add(key);
      out.push({ tokens, tags: [...r.tags], line: r.line, provenance: `${spec.method}:${i}` });
    }
  });
  return { rows: out, summary: summarize(spec.method, rows.length, out.length, dropped) };
}

async function tokenAugmenter(spec: AugmentSpec, flag: (k: string) => string, seed: number):
  Promise<(r: TokenRow, i: number) => string[][]> {
  if (spec.method === "code-switch") {
    const o = resolveCodeSwitchOptions(spec, flag);
    const dicts = await loadDictionaries(spec.dictionaries ?? []);
    return (r, i) => switchedTokens(r.tokens, dicts, o, seed, i);
  }
  if (spec.method !== "eda") {
    throw new WhetError(`token classification: method "${spec.method}" cannot keep one tag per token; ` +
      `supported: eda (synonym replacement only) and code-switch`);
  }
  const moving = (["alpha_ri", "alpha_rs", "p_rd"] as const).filter((k) => (spec[k] ?? 0) > 0);
  if (moving.length > 0) {
    throw new WhetError(`token classification: EDA's random insertion, swap and deletion would misalign the tags; ` +
      `only synonym replacement is supported (remove ${moving.map(flag).join(", ")} or set them to 0)`);
  }
  const o = resolveEdaOptions({ ...spec, alpha_ri: 0, alpha_rs: 0, p_rd: 0 }, flag);
  const th = await Thesaurus.load();
  return (r, i) => {
    const rng = new Rng(seed, i, 0xeda7);
    const eligible = r.tokens.map((t, j) => (r.tags[j] === "O" && /^\p{L}+$/u.test(t) ? j : -1)).filter((j) => j >= 0);
    const n = Math.max(1, Math.floor(o.alpha_sr * r.tokens.length));
    const made: string[][] = [];
    for (let k = 0; k < o.num_aug; k++) {
      const words = eligible.map((j) => ({ pre: "", word: r.tokens[j], post: "" }));
      if (synonymReplace(words, n, th, rng, true) === 0) break;
      const tokens = [...r.tokens];
      eligible.forEach((j, w) => { tokens[j] = words[w].word; });
      if (!made.some((m) => m.join("\u0000") === tokens.join("\u0000"))) made.push(tokens);
    }
    return made;
  };
}

/** Code-switched token lists, word for word; sentences drawn with probability ratio as in codeSwitch. */
function switchedTokens(tokens: string[], dicts: BilingualDictionary[], o: Required<CodeSwitchOptions>, seed: number,
  row: number): string[][] {
  const rng = new Rng(seed, row, 0xc05d);
  if (rng.uniform() >= o.ratio) return [];
  const out: string[][] = [];
  for (let k = 0; k < o.num_aug; k++) {
    const switched = tokens.map((t) => {
      const [w] = splitWords(t); // CoNLL tokens hold no spaces: one entry, or none for an empty token
      if (!w || w.word === "") return t;
      w.word = switchWords([w.word], dicts, o.cross, rng)[0];
      return joinWords([w]);
    });
    const key = switched.join("\u0000");
    if (switched.some((t, j) => t !== tokens[j]) && !out.some((x) => x.join("\u0000") === key)) out.push(switched);
  }
  return out;
}
