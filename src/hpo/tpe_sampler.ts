import { WhetError } from "../core/errors.js";
import { isSingle, sameDistribution, type Distribution } from "./distributions.js";
import { lastStep, type FrozenTrial, type StudySnapshot } from "./frozen_trial.js";
import { defaultWeights, ParzenEstimator, type ParzenOptions } from "./parzen_estimator.js";
import { sampleUniform } from "./random_sampler.js";
import { drawRng, freshSeed, type Sampler } from "./sampler.js";

/** Optuna's default_gamma: the best 10% of the trials (at most 25) form the "good" density l(x). */
export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

export interface TpeOptions {
  seed?: number;
  nStartupTrials?: number;
  nEiCandidates?: number;
  gamma?: (n: number) => number;
  weights?: (n: number) => number[];
  priorWeight?: number;
  considerPrior?: boolean;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
  /**
   * model the parameters jointly (Optuna's multivariate TPE). On by default in whet (Optuna's
   * default is off): it lowered the mean regret on most functions of bench/tpe.mjs.
   */
  multivariate?: boolean;
  /** count RUNNING trials as bad ones, so parallel workers spread out */
  constantLiar?: boolean;
  /**
   * how multivariate kernels get their width: "scott" (default) by Scott's rule on the spread of
   * the observations, "optuna" as Optuna 3.x (a share of the range that depends on the count only).
   * Over 100 seeds of bench/tpe.mjs "scott" lowered the mean regret on Hartmann-6 (by 12%), camel and
   * Rosenbrock, and raised it within about one standard error on Branin, the mixed and the categorical spaces.
   */
  multivariateBandwidth?: "scott" | "optuna";
}

/**
 * Optuna 3.x's TPESampler (optuna/samplers/_tpe/sampler.py) for one objective: random for the first
 * `nStartupTrials` finished trials, then split the COMPLETE and PRUNED trials into the best
 * gamma(n) and the rest (pruned ones ranked by how far they got, then by their last value), fit a
 * Parzen estimator to each, draw `nEiCandidates` from the good one and keep the candidate with the
 * largest log l(x) − log g(x). Defaults are Optuna's except `multivariate` (on here).
 */
export class TpeSampler implements Sampler {
  readonly name = "TPESampler";
  readonly seed: number;
  private readonly startup: number;
  private readonly candidates: number;
  private readonly gamma: (n: number) => number;
  private readonly parzen: ParzenOptions;
  private readonly constantLiar: boolean;

  constructor(opts: TpeOptions = {}) {
    this.seed = opts.seed ?? freshSeed();
    this.startup = opts.nStartupTrials ?? 10;
    this.candidates = opts.nEiCandidates ?? 24;
    this.gamma = opts.gamma ?? defaultGamma;
    this.constantLiar = opts.constantLiar ?? false;
    this.parzen = {
      considerPrior: opts.considerPrior ?? true,
      priorWeight: opts.priorWeight ?? 1,
      considerMagicClip: opts.considerMagicClip ?? true,
      considerEndpoints: opts.considerEndpoints ?? false,
      multivariate: opts.multivariate ?? true,
      weights: opts.weights ?? defaultWeights,
      multivariateBandwidth: opts.multivariateBandwidth ?? "scott",
    };
  }

  /** Multivariate: the parameters every COMPLETE or PRUNED trial has, with one distribution each. */
  inferRelativeSearchSpace(study: StudySnapshot): Record<string, Distribution> {
    if (!this.parzen.multivariate) return {};
    let space: Record<string, Distribution> | null = null;
    for (const t of study.trials) {
      if (t.state !== "COMPLETE" && t.state !== "PRUNED") continue;
      if (space === null) {
        space = { ...t.distributions };
        continue;
      }
      for (const [name, d] of Object.entries(space)) {
        if (!(name in t.distributions) || !sameDistribution(d, t.distributions[name])) delete space[name];
      }
    }
    const out: Record<string, Distribution> = {};
    for (const name of Object.keys(space ?? {}).sort()) if (!isSingle(space![name])) out[name] = space![name];
    return out;
  }

  sampleRelative(study: StudySnapshot, trial: FrozenTrial,
    space: Record<string, Distribution>): Record<string, number> {
    const names = Object.keys(space);
    if (names.length === 0) return {};
    const split = this.split(study, names);
    if (split === null) return {};
    return this.bestCandidate(split, space, drawRng(this.seed, trial.number, "\u0000relative"));
  }

  sampleIndependent(study: StudySnapshot, trial: FrozenTrial, name: string, dist: Distribution): number {
    const rng = drawRng(this.seed, trial.number, name);
    const split = this.split(study, [name]);
    if (split === null) return sampleUniform(rng, dist);
    return this.bestCandidate(split, { [name]: dist }, rng)[name];
  }

  private bestCandidate(split: Split, space: Record<string, Distribution>,
    rng: ReturnType<typeof drawRng>): Record<string, number> {
    const below = new ParzenEstimator(split.below, space, this.parzen);
    const above = new ParzenEstimator(split.above, space, this.parzen);
    const samples = below.sample(rng, this.candidates);
    const logL = below.logPdf(samples), logG = above.logPdf(samples);
    let best = 0;
    for (let i = 1; i < logL.length; i++) if (logL[i] - logG[i] > logL[best] - logG[best]) best = i;
    return Object.fromEntries(Object.keys(space).map((n) => [n, samples[n][best]]));
  }

  /** The observations of the good and the bad trials per parameter, or null while still in the startup phase. */
  private split(study: StudySnapshot, names: string[]): Split | null {
    if (study.directions.length > 1) {
      throw new WhetError("the TPE sampler of whet handles one objective; use the random sampler for a " +
        "multi-objective study");
    }
    const sign = study.directions[0] === "minimize" ? 1 : -1;
    const obs: Observation[] = [];
    for (const t of study.trials) {
      const score = this.score(t, sign);
      if (score !== null) obs.push({ trial: t, ...score });
    }
    const n = obs.filter((o) => o.step < Infinity).length;
    if (n < this.startup) return null;
    const order = obs.map((_, i) => i).sort((a, b) => cmp(obs[a], obs[b]) || a - b);
    const nBelow = this.gamma(n);
    const isBelow = new Set(order.slice(0, nBelow));
    const below: Record<string, number[]> = {}, above: Record<string, number[]> = {};
    for (const name of names) [below[name], above[name]] = [[], []];
    obs.forEach((o, i) => {
      // as Optuna: the mask of the first parameter decides (they share one in a joint draw)
      if (!(names[0] in o.trial.internalParams)) return;
      for (const name of names) (isBelow.has(i) ? below : above)[name].push(o.trial.internalParams[name]);
    });
    return { below, above };
  }

  /** Optuna's ranking key: COMPLETE (−∞, value), PRUNED (−last step, last value), RUNNING (+∞, +∞). */
  private score(t: FrozenTrial, sign: number): { step: number; value: number } | null {
    if (t.state === "COMPLETE") return t.values === null ? null : { step: -Infinity, value: sign * t.values[0] };
    if (t.state === "PRUNED") {
      const step = lastStep(t);
      if (step === null) return { step: 1, value: 0 };
      const v = t.intermediateValues.get(step)!;
      return { step: -step, value: Number.isNaN(v) ? Infinity : sign * v };
    }
    if (t.state === "RUNNING" && this.constantLiar) return { step: Infinity, value: Infinity };
    return null;
  }
}

interface Observation {
  trial: FrozenTrial;
  step: number;
  value: number;
}

interface Split {
  below: Record<string, number[]>;
  above: Record<string, number[]>;
}

function cmp(a: Observation, b: Observation): number {
  if (a.step !== b.step) return a.step < b.step ? -1 : 1;
  if (a.value === b.value) return 0;
  if (Number.isNaN(a.value)) return 1;
  if (Number.isNaN(b.value)) return -1;
  return a.value < b.value ? -1 : 1;
}
