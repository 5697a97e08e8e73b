// How many tokens of each sequence survive truncation, following transformers' (slow, Python)
// `PreTrainedTokenizerBase.truncate_sequences` in 4.30, the reference the fixtures were made with:
// the special tokens the pair gets count toward max_length, and "longest_first" removes ONE token
// at a time from the longer sequence, from the second one on a tie. (The Rust fast tokenizer
// computes the split in closed form and, for an odd budget where the second sequence is at least
// as long, gives the extra token to the second sequence instead; the slow rule is the documented one.)
import { WhetError } from "../core/errors.js";
import { optionName } from "../core/option_names.js";

export type TruncationStrategy = "longest_first" | "only_first" | "only_second";

/**
 * Lengths to keep of the first and second sequence (second is null for a single sequence).
 * `numSpecial` is how many tokens the post-processor adds (2 for [CLS] A [SEP], 3 for a BERT pair).
 * Throws where transformers would log "We need to remove N to truncate the input…" and return the
 * input untruncated (a row longer than max_length only fails later, inside the model).
 */
export function planTruncation(
  lenA: number,
  lenB: number | null,
  numSpecial: number,
  maxLength: number,
  strategy: TruncationStrategy,
): [number, number | null] {
  const name = optionName("max_length", "maxLength");
  if (!Number.isInteger(maxLength) || maxLength < 0) throw new WhetError(`Truncation: ${name} must be a non-negative integer, got ${maxLength}`);
  const toRemove = lenA + (lenB ?? 0) + numSpecial - maxLength;
  if (toRemove <= 0) return [lenA, lenB];
  if (maxLength < numSpecial) {
    throw new WhetError(`Cannot truncate to ${name} ${maxLength}: the special tokens alone take ${numSpecial}`);
  }
  const fail = (which: string, len: number) =>
    new WhetError(
      `Cannot truncate to ${name} ${maxLength} with strategy "${strategy}": ${toRemove} tokens must go ` +
        `but the ${which} sequence has only ${len} (plus ${numSpecial} special tokens)` +
        (strategy === "longest_first" ? "" : `; try truncation "longest_first"`),
    );
  if (strategy === "only_first" || (strategy === "longest_first" && lenB === null)) {
    // Strictly greater, as in transformers: the sequence may not vanish entirely.
    if (lenA > toRemove) return [lenA - toRemove, lenB];
    throw fail("first", lenA);
  }
  if (strategy === "only_second") {
    if (lenB === null) throw new WhetError(`Truncation "only_second" needs a pair of sequences, got a single one`);
    if (lenB > toRemove) return [lenA, lenB - toRemove];
    throw fail("second", lenB);
  }
  // longest_first on a pair. The one-at-a-time loop, in closed form: first cut the longer down
  // to the shorter's length, then alternate (second, first, second, ...).
  let a = lenA;
  let b = lenB!;
  let rest = toRemove;
  const diff = Math.min(Math.abs(a - b), rest);
  if (a > b) a -= diff;
  else b -= diff;
  rest -= diff;
  if (rest > 0) {
    // Now a === b: the tie goes to the second, so the second loses ceil(rest / 2).
    b -= Math.ceil(rest / 2);
    a -= Math.floor(rest / 2);
  }
  return [Math.max(a, 0), Math.max(b, 0)];
}
