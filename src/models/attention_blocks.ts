// Attention over several key blocks (an adapter's virtual tokens, then the real ones) without
// concatenating along the symbolic key axis: one softmax written over the blocks.
import type { Tensor } from "../graph/tensor.js";
import { dropout } from "../ops/dropout.js";
import { add, div, exp, maximum, sub } from "../ops/elementwise.js";
import { matmul } from "../ops/matmul.js";
import { max, sum } from "../ops/reduce.js";

/**
 * softmax([s_1 | s_2 | …]) · [v_1; v_2; …] for scores s_b [B, A, T, n_b] (masks already applied) and
 * values v_b [B or 1, A, n_b, hd] -> [B, A, T, hd]. The blocks share one maximum, so this equals the
 * softmax over the concatenated keys exactly (up to float rounding).
 */
export function attendBlocks(scores: readonly Tensor[], values: readonly Tensor[], dropoutP: number): Tensor {
  const m = scores.map((s) => max(s, [-1], true)).reduce((a, b) => maximum(a, b)); // [B, A, T, 1]
  const e = scores.map((s) => exp(sub(s, m)));
  const z = e.map((x) => sum(x, [-1], true)).reduce((a, b) => add(a, b));
  return e.map((x, i) => matmul(dropout(div(x, z), dropoutP), values[i])).reduce((a, b) => add(a, b));
}
