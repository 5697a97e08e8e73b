// LoRA on a Linear, as PEFT 0.20's lora.Linear: y = W x + b + scaling · B(A(dropout(x))).
// https://github.com/huggingface/peft/blob/v0.20.0/src/peft/tuners/lora/layer.py
import { Rng } from "../core/rng.js";
import type { Tensor } from "../graph/tensor.js";
import { Linear, type LinearHook } from "../nn/linear.js";
import { hashName } from "../nn/module.js";
import type { Parameter } from "../nn/parameter.js";
import { dropout } from "../ops/dropout.js";
import { add, mul } from "../ops/elementwise.js";

export interface LoraOptions {
  r: number;
  alpha: number;
  dropout: number;
  rslora: boolean;
  /** true: PEFT's kaiming-uniform A and zero B (no change at first); "gaussian": A ~ N(0, 1/r²); false: both kaiming-uniform. */
  init: boolean | "gaussian";
  seed: number;
}

/** The low-rank update of one wrapped Linear: lora_A [r, in] and lora_B [out, r] are its children. */
export class LoraHook implements LinearHook {
  constructor(readonly A: Linear, readonly B: Linear, readonly scaling: number, readonly dropoutP: number) {}

  forward(x: Tensor, base: Linear): Tensor {
    const update = this.B.forward(this.A.forward(dropout(x, this.dropoutP))); // [..., in] -> [..., r] -> [..., out]
    return add(base.plain(x), mul(update, this.scaling));
  }

  /** W' = W + scaling · B A, in float64 before rounding to float32. */
  mergedWeight(base: Linear): Float32Array {
    const [out, inF] = base.weight.shape, r = this.A.weight.shape[0];
    const w = Float32Array.from(base.weight.data), a = this.A.weight.data, b = this.B.weight.data;
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inF; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += b[o * r + k] * a[k * inF + i];
        w[o * inF + i] += this.scaling * s;
      }
    }
    return w;
  }
}

/** scaling = lora_alpha / r, or lora_alpha / √r with use_rslora. */
export function loraScaling(r: number, alpha: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** Wrap `linear` (at module path `path`) with a LoRA update; returns the hook. */
export function attachLora(linear: Linear, path: string, o: LoraOptions): LoraHook {
  const A = new Linear(linear.inFeatures, o.r, { bias: false });
  const B = new Linear(o.r, linear.outFeatures, { bias: false });
  linear.attach("lora_A", A, path);
  linear.attach("lora_B", B, path);
  initLora(A.weight, B.weight, o);
  const hook = new LoraHook(A, B, loraScaling(o.r, o.alpha, o.rslora), o.dropout);
  linear.hook = hook;
  return hook;
}

// torch's kaiming_uniform_(a=√5) on [out, in], nn.Linear's default: U(-1/√in, 1/√in).
function kaimingUniform(p: Parameter, seed: number): void {
  const rng = new Rng(seed, hashName(p.name));
  const bound = 1 / Math.sqrt(p.shape[1]);
  for (let i = 0; i < p.data.length; i++) p.data[i] = (2 * rng.uniform() - 1) * bound;
}

function initLora(A: Parameter, B: Parameter, o: LoraOptions): void {
  if (o.init === "gaussian") {
    const rng = new Rng(o.seed, hashName(A.name));
    for (let i = 0; i < A.data.length; i++) A.data[i] = rng.normal() / o.r;
  } else kaimingUniform(A, o.seed);
  if (o.init === false) kaimingUniform(B, o.seed);
  else B.data.fill(0);
}
