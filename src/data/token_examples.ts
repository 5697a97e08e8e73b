import { WhetError } from "../core/errors.js";
import type { TokenRow } from "./conll.js";
import type { Tokenizer } from "../tokenizers/index.js";
import type { Example } from "./examples.js";

export interface EncodedTokens {
  examples: Example[];
  /** Sentences whose subword tokens exceeded max_length (their tail words get no prediction). */
  truncated: number;
}

/**
 * Word-level tags onto subword tokens, as transformers' run_ner does by default: the first
 * subword of each word carries the word's tag, later subwords and special tokens get -100 (not
 * scored). Words are joined with single spaces and each subword is matched to its word through
 * the tokenizer's character offsets, so a pre-tokenizer that splits "New-York" further cannot
 * shift the alignment.
 *
 * @example
 * const { sentences } = await readConll("train.conll");
 * const tagIds = new Map(["O", "B-PER", "I-PER"].map((t, i) => [t, i]));
 * const { examples } = await encodeTokenRows(sentences, tokenizer, 128, tagIds); // -100 past the first sub-word
 */
export async function encodeTokenRows(rows: readonly TokenRow[], tok: Tokenizer, maxLength: number, tagIds: ReadonlyMap<string, number> | null): Promise<EncodedTokens> {
  const examples: Example[] = [];
  let truncated = 0;
  for (const r of rows) {
    const starts: number[] = [];
    let text = "";
    for (const w of r.tokens) {
      if (text) text += " ";
      starts.push(text.length);
      text += w;
    }
    const full = await tok.encode(text, null, {});
    const e = full.ids.length > maxLength ? await tok.encode(text, null, { maxLength, truncation: true }) : full;
    if (e !== full) truncated++;
    const labels = new Array<number>(e.ids.length).fill(-100);
    let lastWord = -1;
    e.offsets.forEach(([s, end], i) => {
      if (e.specialTokensMask[i] || end <= s) return;
      // The word whose span holds this subword's first character (binary search over starts).
      let lo = 0, hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= s) lo = mid;
        else hi = mid - 1;
      }
      if (lo === lastWord) return;
      lastWord = lo;
      if (tagIds) {
        const id = tagIds.get(r.tags[lo]);
        if (id === undefined) throw new WhetError(`line ${r.line + lo}: tag "${r.tags[lo]}" is not one of the model's labels (${[...tagIds.keys()].slice(0, 8).join(", ")}…)`);
        labels[i] = id;
      }
    });
    examples.push({ input_ids: e.ids, token_type_ids: e.typeIds, label: tagIds ? labels : undefined });
  }
  return { examples, truncated };
}
