import { WhetError } from "../core/errors.js";
import type { Tensor } from "../graph/tensor.js";
import { mul } from "./elementwise.js";

/**
 * Inverted dropout. In a training graph each call is a numbered site whose mask (0 or 1/(1-p))
 * is fed per step by the runtime from (seed, step, site): the same seed repeats a run and a
 * resumed run draws what an uninterrupted one would. ONNX Runtime's own Dropout keeps RNG state
 * inside the session, which cannot be saved or replayed, so it is not used.
 */
export function dropout(x: Tensor, p: number): Tensor {
  if (!(p >= 0 && p < 1)) throw new WhetError(`dropout: probability must be in [0, 1), got ${p}`);
  if (!x.graph.training || p === 0) return x;
  return mul(x, x.graph.mask(x.shape, p, x.dtype));
}
