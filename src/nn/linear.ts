import type { Tensor } from "../graph/tensor.js";
import { add } from "../ops/elementwise.js";
import { matmul } from "../ops/matmul.js";
import { Module } from "./module.js";
import type { Parameter } from "./parameter.js";

/**
 * Changes what a Linear computes while it keeps its own weights under their checkpoint names:
 * LoRA and IA3 wrap a layer this way, so models need not know about adapters.
 */
export interface LinearHook {
  forward(x: Tensor, base: Linear): Tensor;
}

/** y = x Wᵀ + b with W stored [out, in] as PyTorch and the Hub store it. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  /** Set by adapters (see LinearHook); null for the plain layer. */
  hook: LinearHook | null = null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; std?: number } = {}) {
    super();
    this.weight = this.param("weight", [outFeatures, inFeatures], { kind: "normal", std: opts.std ?? 0.02 });
    this.bias = opts.bias === false ? null : this.param("bias", [outFeatures], { kind: "zeros" }, true);
  }

  forward(x: Tensor): Tensor {
    return this.scope(() => (this.hook ? this.hook.forward(x, this) : this.plain(x)));
  }

  /** The layer without its hook: x Wᵀ + b. */
  plain(x: Tensor): Tensor {
    const y = matmul(x, this.weight.t(), false, true); // [..., in] @ [out, in]ᵀ -> [..., out]
    return this.bias ? add(y, this.bias.t()) : y;
  }
}
