// Perturbations for CheckList-style tests (Ribeiro et al. 2020, "Beyond Accuracy: Behavioral
// Testing of NLP Models"): invariance (INV) perturbations that should not change a prediction —
// swapped gendered terms and first names, typos, stripped punctuation, contractions — and the
// directional (DIR) negation, which should move a sentiment prediction. Each returns the new text,
// or null where it does not apply to the text (nothing to swap, no auxiliary to negate).
import { Rng } from "../core/rng.js";
import type { TermPair } from "./lexicon.js";

export type Perturb = (text: string, index: number) => string | null;

const HAN = /\p{Script=Han}/u;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Keep the case pattern of what was matched: "He" → "She", "HE" → "SHE". */
function matchCase(found: string, replacement: string): string {
  if (found.length > 1 && found === found.toUpperCase()
    && found !== found.toLowerCase()) return replacement.toUpperCase();
  if (found[0] !== found[0].toLowerCase()) return replacement[0].toUpperCase() + replacement.slice(1);
  return replacement;
}

/**
 * Swap every term with its partner, both directions in one pass. Latin-script terms match whole
 * words, case-insensitively; Chinese terms match anywhere, the longest first (男朋友 before 男).
 * A term listed twice keeps its first partner.
 *
 * @example
 * swapTerms([{ a: "he", b: "she", at: "" }, { a: "his", b: "her", at: "" }])("He lost his keys",
   0); // "She lost her keys"
 */
export function swapTerms(pairs: readonly TermPair[]): Perturb {
  const partner = new Map<string, string>();
  for (const { a, b } of pairs) {
    if (!partner.has(a.toLowerCase())) partner.set(a.toLowerCase(), b);
    if (!partner.has(b.toLowerCase())) partner.set(b.toLowerCase(), a);
  }
  const terms = [...partner.keys()].sort((x, y) => y.length - x.length);
  if (terms.length === 0) return () => null;
  const alt = terms.map((t) => (HAN.test(t) ? escape(t) : `(?<![\\p{L}\\p{N}'])${escape(t)}(?![\\p{L}\\p{N}])`)).join("|");
  const re = new RegExp(alt, "giu");
  return (text) => {
    let changed = false;
    const out = text.replace(re, (m) => {
      changed = true;
      return matchCase(m, partner.get(m.toLowerCase())!);
    });
    return changed && out !== text ? out : null;
  };
}

/** Swap two neighbouring letters of one word, at a position drawn from (seed, example index). */
export function typos(seed: number): Perturb {
  return (text, index) => {
    const chars = [...text];
    const spots: number[] = [];
    for (let i = 0; i + 1 < chars.length; i++) {
      if (/\p{L}/u.test(chars[i]) && /\p{L}/u.test(chars[i + 1]) && chars[i] !== chars[i + 1]) spots.push(i);
    }
    if (spots.length === 0) return null;
    const i = spots[new Rng(seed, index, 0x7479706f).int(spots.length)];
    [chars[i], chars[i + 1]] = [chars[i + 1], chars[i]];
    return chars.join("");
  };
}

/** Remove punctuation (ASCII and CJK), keeping apostrophes inside words ("don't"), leaving single spaces. */
export const stripPunctuation: Perturb = (text) => {
  const letter = (c: string | undefined) => c !== undefined && /\p{L}/u.test(c);
  const out = text.replace(/\p{P}/gu, (c, at: number) => (c === "'" && letter(text[at - 1]) && letter(text[at
    + 1]) ? c : " "))
    .replace(/\s{2,}/g, " ").trim();
  return out !== text.trim() && out !== "" ? out : null;
};

const CONTRACTIONS: [string, string][] = [
  ["is not", "isn't"], ["are not", "aren't"], ["was not", "wasn't"], ["were not", "weren't"], ["do not", "don't"],
  ["does not", "doesn't"], ["did not", "didn't"], ["cannot", "can't"], ["will not", "won't"], ["would not", "wouldn't"],
  ["should not", "shouldn't"], ["could not", "couldn't"], ["has not", "hasn't"], ["have not", "haven't"], ["had not",
    "hadn't"],
  ["it is", "it's"], ["that is", "that's"], ["what is", "what's"], ["there is", "there's"], ["i am", "i'm"],
  ["you are", "you're"], ["we are", "we're"], ["they are", "they're"], ["i will", "i'll"], ["you will", "you'll"],
  ["i would", "i'd"], ["i have", "i've"], ["let us", "let's"],
];

/** Contract expanded forms and expand contracted ones ("is not" ⇄ "isn't"), typographic apostrophes too. */
export const contractions: Perturb = (() => {
  const swap = swapTerms(CONTRACTIONS.map(([a, b]) => ({ a, b, at: "contractions" })));
  return (text, index) => swap(text.replace(/’/g, "'"), index);
})();

const AUX = /(?<![\p{L}'])(is|are|was|were|am|do|does|did|can|could|will|would|should|has|have|had)(?![\p{L}'])(?!\s+not\b)/iu;
const ZH_NEGATABLE = ["是", "喜欢", "推荐", "满意", "值得", "好", "会", "能", "有"];

/**
 * Negate a sentence: "not" after its first auxiliary verb ("is good" → "is not good"); in Chinese,
 * 不 before the first of 是, 喜欢, 推荐, 满意, 值得, 好, 会, 能 (没 before 有) not already negated.
 * Null where no such word is found: the test only counts sentences it could negate.
 */
export const negate: Perturb = (text) => {
  if (HAN.test(text)) {
    for (const w of ZH_NEGATABLE) {
      const at = [...text.matchAll(new RegExp(escape(w),
        "g"))].map((m) => m.index!).find((i) => !/[不没别非]/.test(text[i - 1] ?? ""));
      if (at !== undefined) return `${text.slice(0, at)}${w === "有" ? "没" : "不"}${text.slice(at)}`;
    }
    return null;
  }
  const m = AUX.exec(text);
  if (!m) return null;
  const end = m.index + m[0].length;
  return `${text.slice(0, end)} not${text.slice(end)}`;
};
