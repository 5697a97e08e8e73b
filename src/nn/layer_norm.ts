import type { Tensor } from "../graph/tensor.js";
import { layerNorm } from "../ops/layernorm.js";
import { Module } from "./module.js";
import type { Parameter } from "./parameter.js";

/**
 * Layer normalisation over the last axis. Its weight and bias are excluded from weight decay by
 * module kind, whatever the checkpoint calls them (DistilBERT's are not named "LayerNorm").
 */
export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(readonly dim: number, readonly eps = 1e-12) {
    super();
    this.weight = this.param("weight", [dim], { kind: "ones" }, true);
    this.bias = this.param("bias", [dim], { kind: "zeros" }, true);
  }

  forward(x: Tensor): Tensor {
    return this.scope(() => layerNorm(x, this.weight.t(), this.bias.t(), this.eps));
  }
}
