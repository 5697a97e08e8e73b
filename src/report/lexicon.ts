// Word lists for counterfactual tests. One format for the shipped lists and for `--lexicon FILE`:
// UTF-8 text, one pair per line, three tab-separated fields `category  term_a  term_b`;
// blank lines and lines starting with # are skipped. A perturbation of a category swaps every
// term of a text with its partner, both ways at once (he → she and she → he).
import { readFileSync } from "node:fs";
import { WhetError } from "../core/errors.js";
import { ENGLISH_LEXICON } from "./lexicon_en.js";
import { CHINESE_LEXICON } from "./lexicon_zh.js";

export interface TermPair {
  readonly a: string;
  readonly b: string;
  /** Where the pair was read ("file:line"), for messages. */
  readonly at: string;
}

/** Pairs by category ("gender", "names", or any category a user's file names). */
export type Lexicon = ReadonlyMap<string, readonly TermPair[]>;

/**
 * Parse lexicon text; `source` names it in messages ("my.tsv" gives "my.tsv:3: …").
 *
 * @example
 * parseLexicon("gender\the\tshe\n", "inline").get("gender"); // [{ a: "he", b: "she", at: "inline:1" }]
 */
export function parseLexicon(text: string, source: string): Map<string, TermPair[]> {
  const out = new Map<string, TermPair[]>();
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split("\n");
  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const at = `${source}:${i + 1}`;
    const fields = line.split("\t").map((f) => f.trim());
    if (fields.length !== 3) {
      throw new WhetError(`${at}: expected 3 tab-separated fields (category, term, partner term), got ${fields.length}: ${JSON.stringify(line)}`);
    }
    const [category, a, b] = fields;
    if (!/^[a-z][a-z0-9_-]*$/.test(category)) {
      throw new WhetError(`${at}: the category must be a lowercase name such as gender or names, got ${JSON.stringify(category)}`);
    }
    if (a === "" || b === "") throw new WhetError(`${at}: a term is empty (category ${category})`);
    if (a === b) throw new WhetError(`${at}: "${a}" is paired with itself`);
    out.set(category, [...(out.get(category) ?? []), { a, b, at }]);
  });
  return out;
}

/**
 * Read a lexicon file; a missing file or malformed line is an error naming the file (and line).
 *
 * @example
 * const lexicon = readLexicon("my_terms.tsv"); // category<TAB>term<TAB>counterpart per line
 */
export function readLexicon(path: string): Map<string, TermPair[]> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new WhetError(`reading the lexicon ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseLexicon(text, path);
}

/**
 * The shipped English and Chinese lists, merged by category.
 *
 * @example
 * // The swaps of the counterfactual test: [{ a: "he", b: "she", at: … }, …]
 * const pairs = builtinLexicon().get("gender");
 */
export function builtinLexicon(): Map<string, TermPair[]> {
  return mergeLexicons(parseLexicon(ENGLISH_LEXICON, "lexicon_en"), parseLexicon(CHINESE_LEXICON, "lexicon_zh"));
}

/** Categories of both, the later lexicon's pairs after the earlier's. */
export function mergeLexicons(...lexicons: Lexicon[]): Map<string, TermPair[]> {
  const out = new Map<string, TermPair[]>();
  for (const lex of lexicons) for (const [k, pairs] of lex) out.set(k, [...(out.get(k) ?? []), ...pairs]);
  return out;
}
