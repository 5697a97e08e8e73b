import type { Graph } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import { add, div, mul, sqrt, sub } from "../ops/elementwise.js";

export interface AdamWHyper {
  beta1: number;
  beta2: number;
  eps: number;
}

/** Scalar graph inputs shared by every parameter's update; their values come from the host. */
export interface AdamWScalars {
  beta1: Tensor;
  oneMinusBeta1: Tensor;
  beta2: Tensor;
  oneMinusBeta2: Tensor;
  eps: Tensor;
}

/**
 * Per set of parameters sharing a group and an AdamW step count t: 1 - lr·wd (decoupled decay),
 * lr / (1 - beta1^t) and sqrt(1 - beta2^t). A parameter unfrozen later has its own t, as
 * torch.optim.AdamW keeps one step count per parameter.
 */
export interface GroupScalars {
  decay: Tensor;
  stepSize: Tensor;
  sqrtBc2: Tensor;
}

export function adamwScalarInputs(g: Graph): AdamWScalars {
  const s = (n: keyof AdamWScalars) => g.input(`adamw.${n}`, [], "float32");
  return {
    beta1: s("beta1"), oneMinusBeta1: s("oneMinusBeta1"), beta2: s("beta2"), oneMinusBeta2: s("oneMinusBeta2"), eps: s("eps"),
  };
}

export function groupScalarInputs(g: Graph, k: number): GroupScalars {
  const s = (n: string) => g.input(`adamw.slot${k}.${n}`, [], "float32");
  return { decay: s("decay"), stepSize: s("step_size"), sqrtBc2: s("sqrt_bc2") };
}

/**
 * One AdamW update in the order torch.optim.AdamW computes it, so float32 results agree:
 * p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr/bc1 · m / (√v/√bc2 + ε).
 * The step-dependent scalars are computed on the host in float64: in float32 inside the graph
 * they cost 1e-5 relative error in the second moment.
 */
export function adamwUpdate(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, s: AdamWScalars, gs: GroupScalars): { p: Tensor; m: Tensor; v: Tensor } {
  const decayed = mul(p, gs.decay);
  const m2 = add(mul(m, s.beta1), mul(grad, s.oneMinusBeta1));
  const v2 = add(mul(v, s.beta2), mul(mul(grad, grad), s.oneMinusBeta2));
  const denom = add(div(sqrt(v2), gs.sqrtBc2), s.eps);
  const p2 = sub(decayed, mul(div(m2, denom), gs.stepSize));
  return { p: p2, m: m2, v: v2 };
}

/** Host values of the shared scalars. */
export function adamwScalarValues(h: AdamWHyper): Record<keyof AdamWScalars, number> {
  return { beta1: h.beta1, oneMinusBeta1: 1 - h.beta1, beta2: h.beta2, oneMinusBeta2: 1 - h.beta2, eps: h.eps };
}

/** Host values of one slot's scalars at learning rate `lr`, weight decay `wd`, the slot's step t (1-based). */
export function groupScalarValues(h: AdamWHyper, lr: number, wd: number, t: number): Record<"decay" | "step_size" | "sqrt_bc2", number> {
  return {
    decay: 1 - lr * wd,
    step_size: lr / (1 - Math.pow(h.beta1, t)),
    sqrt_bc2: Math.sqrt(1 - Math.pow(h.beta2, t)),
  };
}
