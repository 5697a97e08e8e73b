/**
 * Examples: rows of a dataset tokenized and labelled for training. The encoders here turn the
 * rows readTable gives into what collate() pads into batches.
 *
 * @example
 * const labels = LabelMap.fit(table.rows.map((r) => r.label));
 * const { examples } = await encodeRows(table.rows, tokenizer, 128, labels);
 * const batch = collate(examples.slice(0, 32), { padId: 0, tokenTypes: true, labels: labelKind(labels) });
 */
import { boundText, type Tokenizer } from "../tokenizers/index.js";
import type { LabelMap } from "./labels.js";
import type { TextRow } from "./read.js";

/** One tokenized training or evaluation example. */
export interface Example {
  input_ids: readonly number[];
  token_type_ids?: readonly number[];
  /** A class id, a regression target, a multi-hot vector, or per-token class ids (-100 = ignored). */
  label?: number | readonly number[];
  /** A teacher's logits for this example (distillation). */
  teacher?: Float32Array;
}

/**
 * What an example's label is. "masked_token": per-token ids like "token", but only the positions
 * with a label (not -100) are fed — `masked_positions` (flat b·T + t) and `labels` [n] — so a
 * masked-LM head projects just those rows onto the vocabulary.
 */
export type LabelKind = "class" | "regression" | "multi_label" | "token" | "masked_token";

/** The label kind a text-classification label map trains. */
export function labelKind(labels: LabelMap): LabelKind {
  const t = labels.problemType;
  return t === "regression" ? "regression" : t === "multi_label_classification" ? "multi_label" : "class";
}

export interface EncodedRows {
  examples: Example[];
  /** Untruncated token counts, for the data report's truncation share (a lower bound for a cut row). */
  lengths: number[];
  /** Rows cut to a checked prefix before tokenizing (see boundText): their lengths are lower bounds. */
  cut: number;
}

/**
 * Tokenize text rows (truncating to maxLength, longest first for pairs) and encode their labels.
 * A text far longer than maxLength tokens could fill is cut to a checked prefix first (boundText):
 * the same ids, without tokenizing megabytes that truncation would drop.
 */
export async function encodeRows(
  rows: readonly TextRow[], tok: Tokenizer, maxLength: number, labels: LabelMap | null,
): Promise<EncodedRows> {
  const examples: Example[] = [], lengths: number[] = [];
  let cut = 0;
  for (const r of rows) {
    const text = await boundText(tok, r.text, maxLength);
    const pair = r.textPair === undefined ? null : await boundText(tok, r.textPair, maxLength);
    if (text.cut || pair?.cut) cut++;
    let e = await tok.encode(text.text, pair?.text ?? null, { addSpecialTokens: true });
    lengths.push(e.ids.length);
    if (e.ids.length > maxLength) {
      e = await tok.encode(text.text, pair?.text ?? null, { maxLength, truncation: "longest_first" });
    }
    const label = labels && r.label !== undefined ? labels.encode(r.label) : undefined;
    examples.push({ input_ids: e.ids, token_type_ids: e.typeIds, label });
  }
  return { examples, lengths, cut };
}
