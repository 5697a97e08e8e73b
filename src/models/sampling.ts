// Sampling (generate(do_sample=True) with one beam), with transformers 4.30's logits warpers in
// its order: temperature, top-k, top-p. The random stream is whet's own (seeded, so a run
// repeats), not torch's: sampled tokens are deterministic for a seed but not torch's tokens.
import type { Rng } from "../core/rng.js";

export interface SamplingParams {
  temperature: number;
  /** Keep the k highest scores (0: off). */
  top_k: number;
  /** Keep the smallest set of tokens whose probability reaches top_p (1: off). */
  top_p: number;
}

/** TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper on one row, in place. */
export function warpScores(scores: Float64Array, p: SamplingParams): void {
  if (p.temperature !== 1) for (let i = 0; i < scores.length; i++) scores[i] /= p.temperature;
  if (p.top_k > 0 && p.top_k < scores.length) {
    // Ties with the k-th score are kept, as `scores < topk(...)[-1]` does.
    const kth = [...scores].sort((a, b) => b - a)[p.top_k - 1];
    for (let i = 0; i < scores.length; i++) if (scores[i] < kth) scores[i] = -Infinity;
  }
  if (p.top_p < 1) {
    const probs = softmax(scores);
    const order = Array.from(scores.keys()).sort((a, b) => probs[a] - probs[b] || a - b); // ascending
    // Remove the low tail whose cumulative probability stays <= 1 - top_p; keep at least one token.
    let cum = 0;
    for (let r = 0; r < order.length - 1; r++) {
      cum += probs[order[r]];
      if (cum > 1 - p.top_p) break;
      scores[order[r]] = -Infinity;
    }
  }
}

function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of scores) if (v > max) max = v;
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += out[i] = Math.exp(scores[i] - max);
  for (let i = 0; i < scores.length; i++) out[i] /= sum;
  return out;
}

/** Draw a token from softmax(scores). */
export function sampleToken(scores: Float64Array, rng: Rng): number {
  const probs = softmax(scores);
  let u = rng.uniform();
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    last = i;
    u -= probs[i];
    if (u < 0) return i;
  }
  return last;
}
