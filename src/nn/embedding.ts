import type { Tensor } from "../graph/tensor.js";
import { embedding } from "../ops/gather.js";
import { Module } from "./module.js";
import type { Parameter } from "./parameter.js";

/** A lookup table [num, dim]; ids of any shape give [..., dim]. */
export class Embedding extends Module {
  readonly weight: Parameter;

  constructor(readonly num: number, readonly dim: number, opts: { std?: number; paddingIdx?: number } = {}) {
    super();
    this.weight = this.param("weight", [num, dim], { kind: "normal", std: opts.std ?? 0.02, zeroRow: opts.paddingIdx });
  }

  forward(ids: Tensor): Tensor {
    return this.scope(() => embedding(this.weight.t(), ids));
  }
}
