// The JS-side result types of encoding, and the padding/tensor helpers that work on them alone
// (no native calls), so they stay simple to test and to reason about.
import { WhetError } from "../core/errors.js";
import { ndarray, type NDArray } from "../core/ndarray.js";
import { appendAll } from "../core/iter.js";

/**
 * One encoded text (or pair), as transformers' BatchEncoding gives it for one row; the fields
 * are named as in BatchEncoding (`inputIds`, `tokenTypeIds`, `attentionMask`…).
 */
export interface Encoding {
  inputIds: number[];
  tokens: string[];
  /** Segment ids: 0 for the first sequence, 1 for the second (BERT); all 0 for RoBERTa. */
  tokenTypeIds: number[];
  /** @deprecated The same array as `inputIds`; kept for one release. */
  ids: number[];
  /** @deprecated The same array as `tokenTypeIds`; kept for one release. */
  typeIds: number[];
  attentionMask: number[];
  /** 1 on tokens the post-processor added ([CLS], [SEP]…) and on padding; 0 on the text's own tokens. */
  specialTokensMask: number[];
  /**
   * [start, end) of each token in its own input string, in UTF-16 code units (so
   * `text.slice(start, end)` works); [0, 0] for special and pad tokens. Python counts code points
   * instead: the two differ only after characters outside the BMP (emoji).
   */
  offsets: [number, number][];
  /** Index of the word a token comes from (restarting in the second sequence); null for special and pad tokens. */
  wordIds: (number | null)[];
  /** 0 or 1: which input a token comes from; null for special and pad tokens. */
  sequenceIds: (number | null)[];
}

/** A padded batch: `inputIds[i] === encodings[i].inputIds`, and so on (the same arrays). */
export interface BatchEncoding {
  encodings: Encoding[];
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
  specialTokensMask: number[][];
  /** The inputs the model takes, in transformers' names: "input_ids", "attention_mask" and, for BERT-like models, "token_type_ids". */
  modelInputNames: readonly string[];
  /** int64 tensors [batch, seq] keyed by model input name; throws unless every row has one length (pad!). */
  tensors(): Record<string, NDArray>;
}

export interface PadSpec {
  length: number;
  padId: number;
  padToken: string;
  padTypeId: number;
  side: "right" | "left";
}

/** Pad one encoding in place up to `spec.length` (longer encodings are left as they are). */
export function padEncoding(e: Encoding, spec: PadSpec): void {
  const n = spec.length - e.inputIds.length;
  if (n <= 0) return;
  const fill = <T>(arr: T[], v: T) => {
    const pad = new Array<T>(n).fill(v);
    if (spec.side === "right") appendAll(arr, pad);
    else appendAll(arr, appendAll(pad, arr.splice(0, arr.length)));
  };
  fill(e.inputIds, spec.padId);
  fill(e.tokens, spec.padToken);
  fill(e.tokenTypeIds, spec.padTypeId);
  fill(e.attentionMask, 0);
  fill(e.specialTokensMask, 1);
  for (let i = 0; i < n; i++) {
    if (spec.side === "right") e.offsets.push([0, 0]);
    else e.offsets.unshift([0, 0]);
  }
  fill<number | null>(e.wordIds, null);
  fill<number | null>(e.sequenceIds, null);
}

export function makeBatch(encodings: Encoding[], modelInputNames: readonly string[]): BatchEncoding {
  const inputIds = encodings.map((e) => e.inputIds);
  const attentionMask = encodings.map((e) => e.attentionMask);
  const tokenTypeIds = encodings.map((e) => e.tokenTypeIds);
  const specialTokensMask = encodings.map((e) => e.specialTokensMask);
  return {
    encodings,
    inputIds,
    attentionMask,
    tokenTypeIds,
    specialTokensMask,
    modelInputNames,
    tensors() {
      const rows: Record<string, number[][]> = { input_ids: inputIds, attention_mask: attentionMask, token_type_ids: tokenTypeIds };
      const width = inputIds[0]?.length ?? 0;
      const bad = inputIds.findIndex((r) => r.length !== width);
      if (bad >= 0) {
        throw new WhetError(`Cannot make tensors from a ragged batch: row 0 has ${width} tokens, row ${bad} has ${inputIds[bad].length}; encode with padding "longest" or "max_length"`);
      }
      const out: Record<string, NDArray> = {};
      for (const name of modelInputNames) {
        if (rows[name]) out[name] = ndarray("int64", [inputIds.length, width], rows[name].flat());
      }
      return out;
    },
  };
}

/**
 * Code-point offsets (what the Rust core reports) to UTF-16 offsets (what JS strings index).
 * Returns the same numbers when the text has no surrogate pairs, which is the common case.
 */
export function codePointToUtf16(text: string): ((cp: number) => number) | null {
  if (!/[\uD800-\uDFFF]/.test(text)) return null;
  const map: number[] = [];
  let u = 0;
  for (const ch of text) {
    map.push(u);
    u += ch.length;
  }
  map.push(u);
  return (cp) => map[Math.min(cp, map.length - 1)];
}
