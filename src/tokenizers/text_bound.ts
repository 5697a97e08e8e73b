/**
 * A character bound before tokenizing, so that a 50 MB row costs what its first max_length
 * tokens cost. Rows up to `maxLength × CHARS_PER_TOKEN` characters are returned untouched (so
 * normal rows get exactly the ids they always got). A longer row is cut to a prefix that is
 * *checked*: the prefix is tokenized and the tokens of its last two words (by the pre-tokenizer's
 * word ids) are discounted, since only the words at the cut can tokenize differently from the
 * full text (a word split in two, a whitespace run cut short, a combining mark cut off); every
 * earlier word was normalized, pre-tokenized and split by the model exactly as in the full text.
 * When the rest still holds at least maxLength tokens, the first maxLength ids of the prefix are
 * the first maxLength ids of the full text, and any truncation to maxLength (a pair too: see
 * planTruncation, whose plan does not change while a side keeps ≥ maxLength tokens) gives the same
 * ids. Otherwise the prefix grows (×4) and is checked again, up to MAX_GROWTH; past that — a row
 * with no word boundary in half a million characters — the prefix is used with `exact: false`.
 *
 * @example
 * const b = await boundText(tok, hugeText, 128);
 * const e = await tok.encode(b.text, null, { maxLength: 128 }); // the same ids as for hugeText
 */
import type { Tokenizer } from "./tokenizer.js";

/** Characters per token tried first: far above natural text's 4–6, so normal rows are not cut. */
export const CHARS_PER_TOKEN = 16;
/** The prefix grows at most this many times beyond maxLength × CHARS_PER_TOKEN. */
const MAX_GROWTH = 256;

export interface BoundedText {
  /** The text, or the prefix of it that is tokenized. */
  text: string;
  /** The text was cut (it was longer than the bound). */
  cut: boolean;
  /** false only when no checked prefix was found within the growth limit (see above). */
  exact: boolean;
}

/** The first character count where a row is cut, for messages ("only the first N characters…"). */
export function charBound(maxLength: number, charsPerToken = CHARS_PER_TOKEN): number {
  return Math.max(1, maxLength) * charsPerToken;
}

/**
 * The text, or a checked prefix of it whose first maxLength tokens are the full text's.
 * `charsPerToken` sets the first bound (tests use small values to cut inside short texts).
 */
export async function boundText(
  tok: Tokenizer, text: string, maxLength: number, charsPerToken = CHARS_PER_TOKEN,
): Promise<BoundedText> {
  const first = charBound(maxLength, charsPerToken);
  if (text.length <= first) return { text, cut: false, exact: true };
  for (let limit = first; limit <= first * MAX_GROWTH; limit *= 4) {
    if (limit >= text.length) return { text, cut: false, exact: true };
    const prefix = text.slice(0, safeCut(text, limit));
    if ((await settledTokens(tok, prefix)) >= maxLength) return { text: prefix, cut: true, exact: true };
  }
  return { text: text.slice(0, safeCut(text, first * MAX_GROWTH)), cut: true, exact: false };
}

/** Tokens of `prefix` outside its last two words: the ones the full text is sure to share. */
async function settledTokens(tok: Tokenizer, prefix: string): Promise<number> {
  const e = await tok.encode(prefix, null, { addSpecialTokens: false, truncation: false });
  let last = -1;
  for (const w of e.wordIds) if (w !== null && w > last) last = w;
  let n = 0;
  for (const w of e.wordIds) if (w !== null && w < last - 1) n++;
  return n;
}

/** Never split a surrogate pair: the cut goes before a lone high surrogate. */
function safeCut(text: string, at: number): number {
  const c = text.charCodeAt(at - 1);
  return c >= 0xd800 && c <= 0xdbff ? at - 1 : at;
}
