import type { Rng } from "../core/rng.js";
import type { Distribution } from "./distributions.js";
import { logGaussMass, truncnormLogPdf, truncnormPpf } from "./truncnorm.js";

/**
 * The Parzen estimator of Optuna's TPE (optuna/samplers/_tpe/parzen_estimator.py, 3.x): one
 * truncated-Gaussian (or categorical) kernel per observation plus a prior kernel of weight 1,
 * bandwidths from the neighbours' distances (univariate) or Scott's rule (multivariate),
 * the "magic clip" lower bound on bandwidths, and weights that ramp up the older observations
 * once there are more than 25. Observations are internal values (log-transformed here for log
 * distributions; a categorical's choice index).
 *
 * The truncated-normal density includes the 1/σ factor (Optuna fixed its omission in 3.5, #5110).
 */
export interface ParzenOptions {
  considerPrior: boolean;
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  multivariate: boolean;
  weights: (n: number) => number[];
  /**
   * multivariate bandwidths: "scott" (whet's default) from the spread of the observations,
   * "optuna" from the width of the range as Optuna 3.x
   */
  multivariateBandwidth?: "scott" | "optuna";
}

const SIGMA0_MAGNITUDE = 0.2;
const MIN_BANDWIDTH = 0.01;

/** Optuna's default_weights: equal weights up to 25, then a ramp from 1/n for the oldest. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = linspace(1 / n, 1, n - 25);
  return [...ramp, ...new Array<number>(25).fill(1)];
}

function linspace(a: number, b: number, num: number): number[] {
  if (num === 1) return [a];
  return Array.from({ length: num }, (_, i) => a + ((b - a) * i) / (num - 1));
}

interface NumericKernels {
  kind: "numeric";
  low: number;
  high: number;
  q: number | null;
  mus: number[];
  sigmas: number[];
}

interface CategoricalKernels {
  kind: "categorical";
  /** [component][choice] probabilities */
  probs: number[][];
}

export class ParzenEstimator {
  readonly weights: number[];
  private readonly kernels = new Map<string, NumericKernels | CategoricalKernels>();

  constructor(observations: Record<string, number[]>, private readonly space: Record<string, Distribution>,
    private readonly opts: ParzenOptions) {
    const names = Object.keys(space);
    const n = names.length === 0 ? 0 : observations[names[0]].length;
    const considerPrior = opts.considerPrior || n === 0;
    this.weights = this.componentWeights(n, considerPrior);
    const sigma0 = opts.multivariate ? SIGMA0_MAGNITUDE * Math.max(n, 1) ** (-1 / (names.length + 4)) : null;
    for (const name of names) {
      const d = space[name];
      const obs = observations[name];
      if (d.kind === "categorical") {
        this.kernels.set(name, categoricalKernels(obs, d.choices.length, considerPrior, opts.priorWeight));
      } else {
        const internal = obs.map((x) => (d.log ? Math.log(x) : x));
        this.kernels.set(name, numericKernels(internal, d, considerPrior, sigma0, opts));
      }
    }
  }

  private componentWeights(n: number, considerPrior: boolean): number[] {
    const w = this.opts.weights(n).slice(0, n);
    if (w.some((x) => x < 0 || !Number.isFinite(x)))
      throw new Error(`TPE weights must be finite and non-negative, got ${w}`);
    const all = considerPrior ? [...w, this.opts.priorWeight] : w;
    const total = all.reduce((s, x) => s + x, 0);
    return all.map((x) => x / total);
  }

  /** The kernels of one parameter: centres and bandwidths (estimator space), or per-component choice probabilities. */
  kernelsOf(name: string): { mus: number[]; sigmas: number[] } | { probs: number[][] } {
    const k = this.kernels.get(name);
    if (k === undefined) throw new Error(`no parameter "${name}" in this estimator`);
    return k.kind === "categorical" ? { probs: k.probs } : { mus: k.mus, sigmas: k.sigmas };
  }

  /** `size` draws from the mixture, as internal values (exp applied for log distributions). */
  sample(rng: Rng, size: number): Record<string, number[]> {
    const cumulative = cumsum(this.weights);
    const active = Array.from({ length: size }, () => pick(cumulative, rng.uniform()));
    const out: Record<string, number[]> = {};
    for (const [name, d] of Object.entries(this.space)) {
      const k = this.kernels.get(name)!;
      if (k.kind === "categorical") {
        out[name] = active.map((c) => pick(cumsum(k.probs[c]), rng.uniform()));
        continue;
      }
      const num = d as Exclude<Distribution, { kind: "categorical" }>;
      const raw = active.map((c) => {
        const mu = k.mus[c], sigma = k.sigmas[c];
        return truncnormPpf(rng.uniform(), (k.low - mu) / sigma, (k.high - mu) / sigma) * sigma + mu;
      });
      out[name] = raw.map((x) => fromUniform(x, num, k.q));
    }
    return out;
  }

  /** log density of the mixture at each sample (internal values). */
  logPdf(samples: Record<string, number[]>): number[] {
    const names = Object.keys(this.space);
    const m = samples[names[0]].length;
    const nComp = this.weights.length;
    const comp = Array.from({ length: m }, () => this.weights.map((w) => Math.log(w)));
    for (const name of names) {
      const d = this.space[name], k = this.kernels.get(name)!;
      for (let i = 0; i < m; i++) {
        const x = samples[name][i];
        const v = d.kind !== "categorical" && d.log ? Math.log(x) : x;
        for (let c = 0; c < nComp; c++) comp[i][c] += componentLogPdf(k, c, v);
      }
    }
    return comp.map(logSumExp);
  }
}

function componentLogPdf(k: NumericKernels | CategoricalKernels, c: number, x: number): number {
  if (k.kind === "categorical") return Math.log(k.probs[c][x]);
  const mu = k.mus[c], sigma = k.sigmas[c];
  const a = (k.low - mu) / sigma, b = (k.high - mu) / sigma;
  if (k.q === null) return truncnormLogPdf(x, a, b, mu, sigma);
  // a discrete value owns the interval of width q around it
  const upper = Math.min(x + k.q / 2, k.high), lower = Math.max(x - k.q / 2, k.low);
  return logGaussMass((lower - mu) / sigma, (upper - mu) / sigma) - logGaussMass(a, b);
}

function categoricalKernels(obs: number[], nChoices: number, considerPrior: boolean,
  priorWeight: number): CategoricalKernels {
  const n = obs.length;
  const rows = considerPrior ? n + 1 : n;
  const fill = priorWeight / (considerPrior ? n + 1 : n);
  const probs = Array.from({ length: rows }, () => new Array<number>(nChoices).fill(fill));
  obs.forEach((choice, i) => { probs[i][Math.round(choice)] += 1; });
  for (const row of probs) {
    const s = row.reduce((a, b) => a + b, 0);
    for (let j = 0; j < row.length; j++) row[j] /= s;
  }
  return { kind: "categorical", probs };
}

/** Parzen bounds: a step (or an int) widens the range by half a step on each side. */
function bounds(d: Exclude<Distribution, { kind: "categorical" }>): { low: number; high: number; q: number | null } {
  if (d.kind === "float") {
    if (d.log) return { low: Math.log(d.low), high: Math.log(d.high), q: null };
    if (d.step !== null) return { low: d.low - 0.5 * d.step, high: d.high + 0.5 * d.step, q: d.step };
    return { low: d.low, high: d.high, q: null };
  }
  if (d.log) return { low: Math.log(d.low - 0.5), high: Math.log(d.high + 0.5), q: null };
  return { low: d.low - 0.5 * d.step, high: d.high + 0.5 * d.step, q: d.step };
}

function numericKernels(obs: number[], d: Exclude<Distribution, { kind: "categorical" }>, considerPrior: boolean,
  sigma0: number | null, opts: ParzenOptions): NumericKernels {
  const { low, high, q } = bounds(d);
  const n = obs.length;
  const mus = considerPrior ? [...obs, 0.5 * (low + high)] : [...obs];
  let sigmas: number[];
  if (sigma0 !== null) {
    // Scott's rule, 1.06·spread·n^(−1/(d+4)), at least 1% of the range (the magic clip, when on, is wider);
    // Optuna's 0.2·range·n^(−1/(d+4)) without observations or when asked
    const scott = opts.multivariateBandwidth !== "optuna" && n > 0;
    const scottH = (): number => 1.059 * robustSpread(obs) * (sigma0 / SIGMA0_MAGNITUDE);
    const h = scott ? Math.max(scottH(), MIN_BANDWIDTH * (high - low)) : sigma0 * (high - low);
    sigmas = mus.map(() => h);
  } else {
    // each kernel is as wide as the larger gap to its sorted neighbours (the range ends count)
    const order = mus.map((_, i) => i).sort((a, b) => mus[a] - mus[b] || a - b);
    const sorted = [low, ...order.map((i) => mus[i]), high];
    const sortedSigmas = order.map((_, j) => Math.max(sorted[j + 1] - sorted[j], sorted[j + 2] - sorted[j + 1]));
    if (!opts.considerEndpoints && sorted.length >= 4) {
      sortedSigmas[0] = sorted[2] - sorted[1];
      sortedSigmas[sortedSigmas.length - 1] = sorted[sorted.length - 2] - sorted[sorted.length - 3];
    }
    sigmas = new Array<number>(mus.length);
    order.forEach((i, j) => { sigmas[i] = sortedSigmas[j]; });
  }
  const maxSigma = high - low;
  const minSigma = opts.considerMagicClip ? (high - low) / Math.min(100, 1 + mus.length) : 1e-12;
  sigmas = sigmas.map((s) => Math.min(Math.max(s, minSigma), maxSigma));
  if (considerPrior) sigmas[n] = high - low;
  return { kind: "numeric", low, high, q, mus, sigmas };
}

/**
 * min(standard deviation, interquartile range / 1.34) of the observations (Silverman's robust
 * spread), 0 for fewer than two. Scott's rule on it lets the kernels of the good trials narrow as
 * they gather and the bad trials' estimator stay smooth, where Optuna's multivariate bandwidth
 * depends on the count alone.
 */
function robustSpread(obs: number[]): number {
  const n = obs.length;
  if (n < 2) return 0;
  const mean = obs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(obs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const s = [...obs].sort((a, b) => a - b);
  const quantile = (p: number): number => {
    const i = p * (n - 1), f = Math.floor(i);
    return s[f] + (s[Math.min(f + 1, n - 1)] - s[f]) * (i - f);
  };
  const iqr = (quantile(0.75) - quantile(0.25)) / 1.34;
  return iqr > 0 ? Math.min(sd, iqr) : sd;
}

/** Back from the estimator's space: exp for log, snap to the step grid, clip to the range. */
function fromUniform(x: number, d: Exclude<Distribution, { kind: "categorical" }>, q: number | null): number {
  if (d.kind === "float") {
    if (d.log) return Math.exp(x);
    if (d.step === null) return x;
    return clip(Math.round((x - d.low) / q!) * q! + d.low, d.low, d.high);
  }
  if (d.log) return clip(Math.round(Math.exp(x)), d.low, d.high);
  return clip(Math.round((x - d.low) / q!) * q! + d.low, d.low, d.high);
}

const clip = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);

function cumsum(xs: readonly number[]): number[] {
  let s = 0;
  return xs.map((x) => (s += x));
}

/** Index of the first cumulative weight at or above u (numpy's choice / Optuna's categorical draw). */
function pick(cumulative: readonly number[], u: number): number {
  const total = cumulative[cumulative.length - 1];
  for (let i = 0; i < cumulative.length; i++) if (cumulative[i] / total > u) return i;
  return cumulative.length - 1;
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}
