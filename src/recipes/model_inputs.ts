/**
 * Model inputs of inference: rows of ids checked against the model before ONNX Runtime sees
 * them, padded into int64 feeds, and the check that outputs are finite. Shared by `predict`
 * (recipes/predict.ts) and the `forward` command.
 */
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { maxOf } from "../core/iter.js";
import type { PretrainedConfig } from "../io/config.js";
import { maxSequenceLength } from "../models/auto.js";

export interface Row {
  input_ids: number[];
  attention_mask: number[];
  token_type_ids: number[];
}

/**
 * Inputs given as ids are checked against the model before ONNX Runtime sees them: an id
 * outside the embedding table would read another row (-1 wraps to the last) or fail deep in a
 * kernel; a mask outside {0, 1} and too-long rows likewise. `lines`: each row's line in the file.
 */
export function checkInputRows(
  rows: readonly Row[], config: PretrainedConfig, path: string, lines?: readonly number[],
): void {
  const vocab = Number(config.vocab_size ?? 30522), types = Number(config.type_vocab_size ?? 2);
  const positions = maxSequenceLength(config);
  rows.forEach((r, i) => {
    const where = lines ? `${path}:${lines[i]}` : `${path}: input ${i + 1}`;
    const fail = (what: string) => {
      throw new WhetError(`${where}: ${what}`);
    };
    const id = r.input_ids.find((v) => !(Number.isInteger(v) && v >= 0 && v < vocab));
    if (id !== undefined) fail(`input id ${id} is outside the vocabulary (0..${vocab - 1}, vocab_size in config.json)`);
    const m = r.attention_mask.find((v) => v !== 0 && v !== 1);
    if (m !== undefined) fail(`attention_mask value ${JSON.stringify(m)}: expected 0 or 1`);
    const t = r.token_type_ids.find((v) => !(Number.isInteger(v) && v >= 0 && v < types));
    if (t !== undefined) fail(`token type id ${JSON.stringify(t)} is outside 0..${types - 1} (type_vocab_size)`);
    const n = r.input_ids.length;
    if (n > positions) fail(`${n} tokens, more than the model's ${positions} positions`);
  });
}

/** Throws when a model output holds NaN or Inf: a wrong result is an error, not output. */
export function checkFinite(a: NDArray, what: string): void {
  const d = a.data as Float32Array;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw new WhetError(`the model produced a non-finite ${what} (${d[i]}) at flat index ${i}: ` +
        `check the weights and layer_norm_eps in config.json`);
    }
  }
}

/** Pad rows to the longest: int64 [batch, seq] feeds. */
export function padRows(rows: readonly Row[], padId: number, tokenTypes: boolean): Record<string, NDArray> {
  const B = rows.length, T = maxOf(rows.map((r) => r.input_ids.length), 1);
  const ids = new BigInt64Array(B * T).fill(BigInt(padId)), mask = new BigInt64Array(B * T);
  const types = new BigInt64Array(B * T);
  rows.forEach((r, b) => r.input_ids.forEach((v, t) => {
    ids[b * T + t] = BigInt(v);
    mask[b * T + t] = BigInt(r.attention_mask[t]);
    types[b * T + t] = BigInt(r.token_type_ids[t]);
  }));
  const feeds: Record<string, NDArray> = {
    input_ids: { dtype: "int64", shape: [B, T], data: ids },
    attention_mask: { dtype: "int64", shape: [B, T], data: mask },
  };
  if (tokenTypes) feeds.token_type_ids = { dtype: "int64", shape: [B, T], data: types };
  return feeds;
}
