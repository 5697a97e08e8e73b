// IA3 on a Linear, as PEFT 0.20's ia3.Linear: a learned vector scales the output (bias included),
// or, for feed-forward modules, the input. https://github.com/huggingface/peft/blob/v0.20.0/src/peft/tuners/ia3/layer.py
import { Rng } from "../core/rng.js";
import type { Tensor } from "../graph/tensor.js";
import type { Linear, LinearHook } from "../nn/linear.js";
import { hashName } from "../nn/module.js";
import { Parameter } from "../nn/parameter.js";
import { mul } from "../ops/elementwise.js";
import { reshape } from "../ops/layout.js";

export class IA3Hook implements LinearHook {
  constructor(readonly l: Parameter, readonly feedforward: boolean) {}

  forward(x: Tensor, base: Linear): Tensor {
    const l = reshape(this.l.t(), [this.l.size]); // [out, 1] or [1, in] -> a vector over the last axis
    return this.feedforward ? base.plain(mul(x, l)) : mul(base.plain(x), l);
  }

  /** Rows (and bias) times l, or columns times l for a feed-forward module. */
  merged(base: Linear): { weight: Float32Array; bias: Float32Array | null } {
    const [out, inF] = base.weight.shape, l = this.l.data;
    const weight = Float32Array.from(base.weight.data);
    for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) weight[o * inF + i] *= this.feedforward ? l[i] : l[o];
    const bias = base.bias ? Float32Array.from(base.bias.data) : null;
    if (bias && !this.feedforward) for (let o = 0; o < out; o++) bias[o] *= l[o];
    return { weight, bias };
  }
}

/** Wrap `linear` with an IA3 vector ia3_l: [out, 1], or [1, in] for a feed-forward module. */
export function attachIA3(linear: Linear, path: string, feedforward: boolean, init: boolean, seed: number): IA3Hook {
  const shape = feedforward ? [1, linear.inFeatures] : [linear.outFeatures, 1];
  const l = new Parameter("ia3_l", shape, { kind: "ones" }, false);
  linear.attach("ia3_l", l, path);
  if (init) l.data.fill(1);
  else {
    // PEFT leaves torch.randn values when init_ia3_weights is false.
    const rng = new Rng(seed, hashName(l.name));
    for (let i = 0; i < l.data.length; i++) l.data[i] = rng.normal();
  }
  const hook = new IA3Hook(l, feedforward);
  linear.hook = hook;
  return hook;
}
