import type { Rng } from "../core/rng.js";
import type { Distribution } from "./distributions.js";
import type { FrozenTrial, StudySnapshot } from "./frozen_trial.js";
import { drawRng, freshSeed, type Sampler } from "./sampler.js";

/** Optuna's RandomSampler: each parameter uniformly at random (log-uniformly for log ranges). */
export class RandomSampler implements Sampler {
  readonly name = "RandomSampler";
  readonly seed: number;

  constructor(opts: { seed?: number } = {}) {
    this.seed = opts.seed ?? freshSeed();
  }

  inferRelativeSearchSpace(): Record<string, Distribution> {
    return {};
  }

  sampleRelative(): Record<string, number> {
    return {};
  }

  sampleIndependent(_study: StudySnapshot, trial: FrozenTrial, name: string, dist: Distribution): number {
    return sampleUniform(drawRng(this.seed, trial.number, name), dist);
  }
}

/** One uniform draw from a distribution, as an internal value. */
export function sampleUniform(rng: Rng, d: Distribution): number {
  if (d.kind === "categorical") return rng.int(d.choices.length);
  if (d.kind === "float") {
    if (d.log) return Math.exp(Math.log(d.low) + rng.uniform() * (Math.log(d.high) - Math.log(d.low)));
    if (d.step !== null) {
      const k = rng.int(Math.round((d.high - d.low) / d.step) + 1);
      return Math.min(d.low + k * d.step, d.high);
    }
    return d.low + rng.uniform() * (d.high - d.low);
  }
  if (d.log) {
    const lo = Math.log(d.low - 0.5), hi = Math.log(d.high + 0.5);
    return Math.min(Math.max(Math.round(Math.exp(lo + rng.uniform() * (hi - lo))), d.low), d.high);
  }
  return d.low + d.step * rng.int(Math.floor((d.high - d.low) / d.step) + 1);
}
