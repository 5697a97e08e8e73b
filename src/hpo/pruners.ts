import { WhetError } from "../core/errors.js";
import { lastStep, type Direction, type FrozenTrial, type StudySnapshot } from "./frozen_trial.js";

/**
 * Pruners with Optuna's defaults (optuna/pruners): median (a 50th-percentile pruner), successive
 * halving, hyperband and none. `prune` sees a snapshot of the study and the trial as stored after
 * its latest report; `systemAttrs` lets successive halving record the rungs a trial completed
 * (`completed_rung_N`, Optuna's keys), which the caller writes to storage.
 */
export interface Pruner {
  readonly name: string;
  prune(study: StudySnapshot, trial: FrozenTrial, systemAttrs: Record<string, unknown>): boolean;
}

export class NopPruner implements Pruner {
  readonly name = "NopPruner";
  prune(): boolean {
    return false;
  }
}

export interface PercentileOptions {
  nStartupTrials?: number;
  nWarmupSteps?: number;
  intervalSteps?: number;
  nMinTrials?: number;
}

/** Prune when the trial's best value so far is worse than the given percentile of the completed trials at this step. */
export class PercentilePruner implements Pruner {
  readonly name: string = "PercentilePruner";
  private readonly startup: number;
  private readonly warmup: number;
  private readonly interval: number;
  private readonly minTrials: number;

  constructor(private readonly percentile: number, opts: PercentileOptions = {}) {
    if (!(percentile >= 0 && percentile <= 100))
      throw new WhetError(`percentile must be in [0, 100], got ${percentile}`);
    this.startup = opts.nStartupTrials ?? 5;
    this.warmup = opts.nWarmupSteps ?? 0;
    this.interval = opts.intervalSteps ?? 1;
    this.minTrials = opts.nMinTrials ?? 1;
  }

  prune(study: StudySnapshot, trial: FrozenTrial): boolean {
    const completed = study.trials.filter((t) => t.state === "COMPLETE");
    if (completed.length === 0 || completed.length < this.startup) return false;
    const step = lastStep(trial);
    if (step === null || step < this.warmup) return false;
    if (!this.firstInInterval(step, [...trial.intermediateValues.keys()])) return false;
    const dir = study.directions[0];
    const best = bestSoFar([...trial.intermediateValues.values()], dir);
    if (Number.isNaN(best)) return true;
    const atStep = completed.filter((t) => t.intermediateValues.has(step)).map((t) => t.intermediateValues.get(step)!);
    if (atStep.length < this.minTrials) return false;
    const p = nanPercentile(atStep, dir === "maximize" ? 100 - this.percentile : this.percentile);
    if (Number.isNaN(p)) return false;
    return dir === "maximize" ? best < p : best > p;
  }

  private firstInInterval(step: number, steps: number[]): boolean {
    const nearestLower = Math.floor((step - this.warmup) / this.interval) * this.interval + this.warmup;
    const secondLast = steps.reduce((acc, s) => (s > acc && s !== step ? s : acc), -1);
    return secondLast < nearestLower;
  }
}

/** Optuna's MedianPruner: n_startup_trials 5, n_warmup_steps 0, interval_steps 1, n_min_trials 1. */
export class MedianPruner extends PercentilePruner {
  override readonly name = "MedianPruner";
  constructor(opts: PercentileOptions = {}) {
    super(50, opts);
  }
}

function bestSoFar(values: number[], dir: Direction): number {
  const finite = values.filter((v) => !Number.isNaN(v));
  if (finite.length === 0) return Number.NaN;
  return dir === "maximize" ? Math.max(...finite) : Math.min(...finite);
}

/** numpy.nanpercentile with linear interpolation. */
export function nanPercentile(values: number[], q: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

export interface SuccessiveHalvingOptions {
  /** steps before the first rung; "auto": the longest completed trial's last step / 100 */
  minResource?: number | "auto";
  reductionFactor?: number;
  minEarlyStoppingRate?: number;
  bootstrapCount?: number;
}

/** Optuna's SuccessiveHalvingPruner (asynchronous successive halving): min_resource auto, reduction factor 4. */
export class SuccessiveHalvingPruner implements Pruner {
  readonly name = "SuccessiveHalvingPruner";
  private minResource: number | null;
  private readonly eta: number;
  private readonly minRate: number;
  private readonly bootstrap: number;

  constructor(opts: SuccessiveHalvingOptions = {}) {
    const r = opts.minResource ?? "auto";
    if (r !== "auto" && !(Number.isInteger(r) && r > 0))
      throw new WhetError(`min_resource must be a positive integer or "auto", got ${r}`);
    this.minResource = r === "auto" ? null : r;
    this.eta = opts.reductionFactor ?? 4;
    if (!(Number.isInteger(this.eta) && this.eta >= 2))
      throw new WhetError(`reduction_factor must be an integer >= 2, got ${this.eta}`);
    this.minRate = opts.minEarlyStoppingRate ?? 0;
    this.bootstrap = opts.bootstrapCount ?? 0;
  }

  prune(study: StudySnapshot, trial: FrozenTrial, systemAttrs: Record<string, unknown>): boolean {
    const step = lastStep(trial);
    if (step === null) return false;
    let rung = 0;
    while (`completed_rung_${rung}` in trial.systemAttrs) rung++;
    const value = trial.intermediateValues.get(step)!;
    for (;;) {
      if (this.minResource === null) {
        const steps = study.trials.filter((t) => t.state === "COMPLETE").map(lastStep).filter((s): s is number =>
          s !== null);
        if (steps.length === 0) return false;
        this.minResource = Math.max(Math.floor(Math.max(...steps) / 100), 1);
      }
      if (step < this.minResource * this.eta ** (this.minRate + rung)) return false;
      if (Number.isNaN(value)) return true;
      const key = `completed_rung_${rung}`;
      systemAttrs[key] = value;
      trial.systemAttrs[key] = value;
      const competing = study.trials.filter((t) => t.trialId !== trial.trialId && key in t.systemAttrs)
        .map((t) => t.systemAttrs[key] as number);
      competing.push(value);
      if (competing.length <= this.bootstrap) return true;
      if (!promotable(value, competing, this.eta, study.directions[0])) return true;
      rung++;
    }
  }
}

function promotable(value: number, competing: number[], eta: number, dir: Direction): boolean {
  let idx = Math.floor(competing.length / eta) - 1;
  // the first eta − 1 trials: promote only the best so far, as Optuna does
  if (idx === -1) idx = 0;
  competing.sort((a, b) => a - b);
  return dir === "maximize" ? value >= competing[competing.length - 1 - idx] : value <= competing[idx];
}

export interface HyperbandOptions {
  minResource?: number;
  maxResource?: number | "auto";
  reductionFactor?: number;
  bootstrapCount?: number;
}

/**
 * Optuna's HyperbandPruner: several successive-halving brackets with different early-stopping
 * rates; a trial's bracket comes from crc32("{study}_{number}") so every worker agrees, and a
 * bracket compares only its own trials.
 */
export class HyperbandPruner implements Pruner {
  readonly name = "HyperbandPruner";
  private readonly minResource: number;
  private maxResource: number | "auto";
  private readonly eta: number;
  private readonly bootstrap: number;
  private brackets: { pruner: SuccessiveHalvingPruner; budget: number }[] = [];
  private total = 0;

  constructor(opts: HyperbandOptions = {}) {
    this.minResource = opts.minResource ?? 1;
    this.maxResource = opts.maxResource ?? "auto";
    this.eta = opts.reductionFactor ?? 3;
    this.bootstrap = opts.bootstrapCount ?? 0;
    if (this.bootstrap > 0 && this.maxResource === "auto")
      throw new WhetError("hyperband: bootstrap_count > 0 needs a max_resource, not auto");
  }

  prune(study: StudySnapshot, trial: FrozenTrial, systemAttrs: Record<string, unknown>): boolean {
    if (this.brackets.length === 0) this.init(study);
    if (this.brackets.length === 0) return false;
    const id = this.bracketOf(study.studyName, trial.number);
    const bracketStudy = { ...study, trials: study.trials.filter((t) =>
      this.bracketOf(study.studyName, t.number) === id) };
    return this.brackets[id].pruner.prune(bracketStudy, trial, systemAttrs);
  }

  private init(study: StudySnapshot): void {
    if (this.maxResource === "auto") {
      const steps = study.trials.filter((t) => t.state === "COMPLETE").map(lastStep).filter((s): s is number =>
        s !== null);
      if (steps.length === 0) return;
      this.maxResource = Math.max(...steps) + 1;
    }
    const n = Math.floor(Math.log(this.maxResource / this.minResource) / Math.log(this.eta) + 1e-12) + 1;
    for (let b = 0; b < n; b++) {
      const s = n - 1 - b;
      const budget = Math.ceil((n * this.eta ** s) / (s + 1));
      this.total += budget;
      const pruner = new SuccessiveHalvingPruner({ minResource: this.minResource, reductionFactor: this.eta,
        minEarlyStoppingRate: b, bootstrapCount: this.bootstrap });
      this.brackets.push({ pruner, budget });
    }
  }

  private bracketOf(studyName: string, number: number): number {
    let n = crc32(`${studyName}_${number}`) % this.total;
    for (let b = 0; b < this.brackets.length; b++) {
      n -= this.brackets[b].budget;
      if (n < 0) return b;
    }
    return this.brackets.length - 1;
  }
}

let CRC_TABLE: Uint32Array | null = null;

/** zlib's crc32 of the UTF-8 bytes (Python's binascii.crc32). */
export function crc32(text: string): number {
  if (CRC_TABLE === null) {
    CRC_TABLE = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, "utf8")) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
