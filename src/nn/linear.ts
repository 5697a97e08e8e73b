import type { Tensor } from "../graph/tensor.js";
import { add } from "../ops/elementwise.js";
import { matmul } from "../ops/matmul.js";
import { Module } from "./module.js";
import type { Parameter } from "./parameter.js";

/** y = x Wᵀ + b with W stored [out, in] as PyTorch and the Hub store it. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; std?: number } = {}) {
    super();
    this.weight = this.param("weight", [outFeatures, inFeatures], { kind: "normal", std: opts.std ?? 0.02 });
    this.bias = opts.bias === false ? null : this.param("bias", [outFeatures], { kind: "zeros" }, true);
  }

  forward(x: Tensor): Tensor {
    return this.scope(() => {
      const y = matmul(x, this.weight.t(), false, true); // [..., in] @ [out, in]ᵀ -> [..., out]
      return this.bias ? add(y, this.bias.t()) : y;
    });
  }
}
