import type { AdamWHyper } from "./adamw.js";

/**
 * The float32 scalars of one AdamW update: the shared ones (β, 1−β, ε) and one slot's
 * (1 − lr·wd, lr/bc1, √bc2), each computed in float64 on the host and rounded to float32 once,
 * as they were when fed to the graph form (adamw.ts).
 */
export interface HostAdamWScalars {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  eps: number;
  decay: number;
  stepSize: number;
  sqrtBc2: number;
  /** Global-norm clipping factor (float32), or null when clipping is off. */
  clipCoef: number | null;
}

const f = Math.fround;

/** The scalars of a slot at step t (1-based), learning rate `lr` and weight decay `wd`. */
export function hostAdamWScalars(h: AdamWHyper, lr: number, wd: number, t: number, clipCoef: number | null): HostAdamWScalars {
  return {
    beta1: f(h.beta1), oneMinusBeta1: f(1 - h.beta1), beta2: f(h.beta2), oneMinusBeta2: f(1 - h.beta2), eps: f(h.eps),
    decay: f(1 - lr * wd), stepSize: f(lr / (1 - Math.pow(h.beta1, t))), sqrtBc2: f(Math.sqrt(1 - Math.pow(h.beta2, t))),
    clipCoef: clipCoef === null ? null : f(clipCoef),
  };
}

/**
 * One AdamW update in place over equally long arrays, in torch.optim.AdamW's order, every
 * operation rounded to float32 as the graph form computes it:
 * g ← g·coef; p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * p ← p − lr/bc1 · m / (√v/√bc2 + ε).
 * A float64 operation on float32 operands rounded back to float32 equals the float32 operation
 * for + − × ÷ and √ (float64 has more than twice float32's precision), so the results are the
 * graph's bit for bit. One pass reads g, p, m, v and writes p, m, v: ONNX Runtime needed a dozen
 * element-wise nodes and three parameter-sized outputs copied back for the same work.
 *
 * @example
 * const s = hostAdamWScalars({ beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 2e-5, 0.01, 1, null);
 * adamwInPlace(param, m, v, grad, s);
 */
export function adamwInPlace(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, s: HostAdamWScalars): void {
  // Scalars as plain arguments and no per-element branch: V8 keeps them in registers (~1.5× faster).
  kernel(p, m, v, g, s.clipCoef ?? 1, s.beta1, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.eps, s.decay, s.stepSize, s.sqrtBc2);
}

function kernel(
  p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, coef: number,
  beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number, decay: number, stepSize: number, sqrtBc2: number,
): void {
  const n = g.length;
  for (let i = 0; i < n; i++) {
    // g·1 is g exactly, so one loop serves clipping on and off.
    const gi = Math.fround(g[i] * coef);
    const decayed = Math.fround(p[i] * decay);
    const m2 = Math.fround(Math.fround(m[i] * beta1) + Math.fround(gi * oneMinusBeta1));
    const v2 = Math.fround(Math.fround(v[i] * beta2) + Math.fround(Math.fround(gi * gi) * oneMinusBeta2));
    const denom = Math.fround(Math.fround(Math.fround(Math.sqrt(v2)) / sqrtBc2) + eps);
    p[i] = decayed - Math.fround(Math.fround(m2 / denom) * stepSize);
    m[i] = m2;
    v[i] = v2;
  }
}
