import type { Shape } from "../core/shape.js";

/**
 * A parameter buffer owned by whet (nn.Parameter implements this). The graph sees it by name;
 * each compiled step reads `data` and may replace it with the updated array.
 */
export interface ParamSpec {
  readonly name: string;
  readonly shape: Shape;
  data: Float32Array;
  /** False for frozen parameters: they get no gradient and no backward work below them. */
  requiresGrad: boolean;
  /** True for biases and normalisation weights: weight decay skips them, as Trainer groups them. */
  readonly noDecay: boolean;
}
