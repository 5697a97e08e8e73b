import type { Tensor } from "../graph/tensor.js";
import { add, div, minimum, mul, scalar, sqrt } from "../ops/elementwise.js";
import { sumOf, sumSquares } from "../ops/reduce.js";

/** Σ‖g‖² over the gradients: one ReduceSumSquare each, added left to right in one Sum. */
export function squaredNorm(grads: readonly Tensor[]): Tensor {
  return grads.length ? sumOf(grads.map(sumSquares)) : scalar(0);
}

/**
 * Global-norm clipping as torch.nn.utils.clip_grad_norm_: scale every gradient by
 * min(1, max_norm / (‖g‖ + 1e-6)). Returns the scaled gradients and the norm before clipping
 * (what Trainer logs as grad_norm), and the factor (null without clipping).
 */
export function clipByGlobalNorm(
  grads: readonly Tensor[], maxNorm: number | null,
): { grads: Tensor[]; norm: Tensor; coef: Tensor | null } {
  const norm = sqrt(squaredNorm(grads));
  if (maxNorm === null || !(maxNorm > 0)) return { grads: [...grads], norm, coef: null };
  const coef = minimum(div(scalar(maxNorm, norm.dtype, norm), add(norm, 1e-6)), 1);
  return { grads: grads.map((g) => mul(g, coef)), norm, coef };
}
