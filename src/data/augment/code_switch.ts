/**
 * Code-switching, CoSDA-ML (Qin et al. 2020, https://arxiv.org/abs/2006.06402): a sentence is
 * chosen with probability `ratio`; in it each word picks one target language at random and, when
 * that language's dictionary has the word, is replaced with probability `cross` by one of its
 * translations, chosen at random. Fine-tuning a multilingual model (mBERT, XLM-R) on such mixed
 * sentences aligns the languages' representations for zero-shot transfer.
 *
 * Defaults: ratio 1.0 and cross 0.9, the values of the authors' own NL-Augmenter transformation
 * (every sentence; 90% of the words a drawn dictionary knows). Dictionaries are MUSE's bilingual
 * lexicons: one `source target` pair per line (space or tab), a source word repeated for each
 * of its translations, e.g. en-de.txt from https://github.com/facebookresearch/MUSE. Words are
 * looked up lower-case; the replacement takes the word's capitalisation and keeps its punctuation.
 *
 * @example
 * const dicts = [await readMuseDictionary("en-de.txt"), await readMuseDictionary("en-fr.txt")];
 * codeSwitch("The weather is nice today.", dicts, { seed: 1, row: 0 });
 * // ["The Wetter is schön aujourd'hui."]
 */
import { basename } from "node:path";
import { WhetError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { readTextFile, splitLines } from "../text_file.js";
import { checkCount, checkUnit } from "./augment_spec.js";
import { joinWords, matchCase, splitWords } from "./word_split.js";

export interface BilingualDictionary {
  /** The target language, from the file name ("en-de.txt" -> "de") unless given. */
  language: string;
  path: string;
  /** Lower-case source word -> its translations, in file order. */
  entries: Map<string, string[]>;
}

export interface CodeSwitchOptions {
  /** Probability that a sentence is code-switched (default 1.0). */
  ratio?: number;
  /** Probability that a word is replaced, given that the drawn language knows it (default 0.9). */
  cross?: number;
  /** Code-switched versions per sentence (default 1). */
  num_aug?: number;
}

export const CODE_SWITCH_DEFAULTS: Required<CodeSwitchOptions> = { ratio: 1.0, cross: 0.9, num_aug: 1 };

/** Parse a MUSE dictionary; a line that is not two fields stops with file:line. */
export function parseMuseDictionary(text: string, path: string, language?: string): BilingualDictionary {
  const entries = new Map<string, string[]>();
  splitLines(text).forEach((raw, i) => {
    if (raw.trim() === "") return;
    const fields = raw.trim().split(/[ \t]+/);
    if (fields.length !== 2) {
      throw new WhetError(`${path}:${i + 1}: expected "source target" (two words separated by a space or tab, as in ` +
        `MUSE's dictionaries), found ${fields.length} field${fields.length === 1 ? "" : "s"}: ` +
        JSON.stringify(raw.slice(0, 60)));
    }
    const src = fields[0].toLowerCase();
    const list = entries.get(src);
    if (!list) entries.set(src, [fields[1]]);
    else if (!list.includes(fields[1])) list.push(fields[1]);
  });
  if (entries.size === 0) throw new WhetError(`${path}: the dictionary has no entries`);
  return { language: language ?? languageFromPath(path), path, entries };
}

export async function readMuseDictionary(path: string, language?: string): Promise<BilingualDictionary> {
  return parseMuseDictionary(await readTextFile(path), path, language);
}

/** "en-de.txt" / "en-de.0-5000.txt" -> "de"; any other name -> the name without extension. */
function languageFromPath(path: string): string {
  const name = basename(path);
  const m = /^[A-Za-z_]+-([A-Za-z_]+)(?:\.|$)/.exec(name);
  return m ? m[1] : name.replace(/\.[^.]*$/, "");
}

export function resolveCodeSwitchOptions(o: CodeSwitchOptions, flag: (name: string) => string = (n) => n):
  Required<CodeSwitchOptions> {
  const r = { ...CODE_SWITCH_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  for (const k of ["ratio", "cross"] as const) checkUnit("code-switch", flag(k), r[k]);
  checkCount("code-switch", flag("num_aug"), r.num_aug);
  return r;
}

/** One code-switched version of the tokens' words (token count unchanged: tags stay aligned). */
export function switchWords(words: readonly string[], dicts: readonly BilingualDictionary[], cross: number,
  rng: Rng): string[] {
  return words.map((w) => {
    const dict = dicts[rng.int(dicts.length)];
    const translations = dict.entries.get(w.toLowerCase());
    if (!translations || rng.uniform() >= cross) return w;
    return matchCase(w, translations[rng.int(translations.length)]);
  });
}

/** Up to num_aug distinct code-switched sentences (none when the sentence is not drawn). */
export function codeSwitch(text: string, dicts: readonly BilingualDictionary[],
  o: CodeSwitchOptions & { seed: number; row: number }): string[] {
  if (dicts.length === 0) throw new WhetError("code-switch: no dictionaries given");
  const opts = resolveCodeSwitchOptions(o);
  const rng = new Rng(o.seed, o.row, 0xc05d);
  if (rng.uniform() >= opts.ratio) return [];
  const out = new Set<string>();
  for (let k = 0; k < opts.num_aug; k++) {
    const tokens = splitWords(text);
    const switched = switchWords(tokens.map((t) => t.word), dicts, opts.cross, rng);
    tokens.forEach((t, i) => { t.word = switched[i]; });
    const s = joinWords(tokens);
    if (s !== text && s !== joinWords(splitWords(text))) out.add(s);
  }
  return [...out];
}
