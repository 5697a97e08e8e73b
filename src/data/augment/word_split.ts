/**
 * Words of a sentence for word-level augmentation. A text is split at white space into tokens;
 * each token keeps the punctuation around its word ("(great!" -> "(", "great", "!") so that
 * replacing, swapping or translating words leaves quotes, commas and full stops where they were.
 * Unlike EDA's reference code we do not lower-case the text or strip its punctuation: cased
 * models and tokenizers see the text as a user wrote it.
 *
 * @example
 * const toks = splitWords("The movie was great!");
 * toks[3]; // { pre: "", word: "great", post: "!" }
 * joinWords(toks); // "The movie was great!"
 */

export interface WordToken {
  /** Punctuation before the word. */
  pre: string;
  /** The word: from its first letter to its last; "" for a token without letters ("--", "42"). */
  word: string;
  /** Punctuation after the word. */
  post: string;
}

const TOKEN = /^(\P{L}*)(\p{L}(?:.*\p{L})?)?(\P{L}*)$/su;

export function splitWords(text: string): WordToken[] {
  return text.split(/\s+/u).filter((t) => t !== "").map((t) => {
    const m = TOKEN.exec(t);
    // A token whose letters are all in one run always matches; the regex cannot fail, but a
    // token is never lost even if it did.
    if (!m || m[2] === undefined) return { pre: t, word: "", post: "" };
    return { pre: m[1], word: m[2], post: m[3] };
  });
}

export function joinWords(tokens: readonly WordToken[]): string {
  return tokens.map((t) => t.pre + t.word + t.post).join(" ");
}

/** Indices of the tokens that hold a word. */
export function wordIndices(tokens: readonly WordToken[]): number[] {
  const out: number[] = [];
  tokens.forEach((t, i) => { if (t.word !== "") out.push(i); });
  return out;
}

/**
 * Give `replacement` the capitalisation of `original`: "Great" -> "Superb", "GREAT" -> "SUPERB";
 * a lower-case original leaves the replacement as the dictionary spells it.
 */
export function matchCase(original: string, replacement: string): string {
  if (original.length > 1 && original === original.toUpperCase() && original !== original.toLowerCase()) {
    return replacement.toUpperCase();
  }
  const first = original[0];
  if (first !== undefined && first !== first.toLowerCase()) return replacement[0].toUpperCase() + replacement.slice(1);
  return replacement;
}
