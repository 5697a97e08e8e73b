import { WhetError } from "../core/errors.js";
import {
  categoricalDistribution, checkCompatible, contains, floatDistribution, intDistribution, isSingle, toExternal,
    toInternal,
  type Choice, type Distribution,
} from "./distributions.js";
import type { FrozenTrial, StudySnapshot } from "./frozen_trial.js";
import type { StudyCore } from "./study_core.js";

/** Thrown by an objective (after `shouldPrune()` said so) to end its trial as PRUNED. */
export class TrialPruned extends WhetError {
  constructor(message = "trial pruned") {
    super(message);
  }
}

/**
 * A running trial, as Optuna's Trial: `suggest*` draws a parameter (or returns the one already
 * drawn, or the enqueued `fixed_params` value), `report` records an intermediate value,
 * `shouldPrune` asks the study's pruner.
 *
 * @example
 * const x = await trial.suggestFloat("x", -10, 10);
 * const lr = await trial.suggestFloat("learning_rate", 1e-5, 1e-3, { log: true });
 * const layers = await trial.suggestInt("layers", 1, 4);
 * const act = await trial.suggestCategorical("activation", ["gelu", "relu"]);
 */
export class Trial {
  constructor(private readonly study: StudyCore, readonly frozen: FrozenTrial, private readonly snapshot: StudySnapshot,
    private readonly relative: Record<string, number>) {}

  get number(): number {
    return this.frozen.number;
  }

  get trialId(): number {
    return this.frozen.trialId;
  }

  /** The parameters drawn so far. */
  get params(): Record<string, Choice> {
    return { ...this.frozen.params };
  }

  async suggestFloat(name: string, low: number, high: number,
    opts: { log?: boolean; step?: number | null } = {}): Promise<number> {
    return (await this.suggest(name, floatDistribution(low, high, opts, `suggest_float("${name}")`))) as number;
  }

  async suggestInt(name: string, low: number, high: number,
    opts: { log?: boolean; step?: number } = {}): Promise<number> {
    return (await this.suggest(name, intDistribution(low, high, opts, `suggest_int("${name}")`))) as number;
  }

  async suggestCategorical<T extends Choice>(name: string, choices: readonly T[]): Promise<T> {
    return (await this.suggest(name, categoricalDistribution(choices, `suggest_categorical("${name}")`))) as T;
  }

  /** Draw from any distribution (the space file's entries come here). */
  async suggest(name: string, dist: Distribution): Promise<Choice> {
    const t = this.frozen;
    if (name in t.distributions) {
      checkCompatible(name, t.distributions[name], dist);
      return t.params[name];
    }
    const internal = this.draw(name, dist);
    await this.study.storage.setTrialParam(this.study.studyId, t.trialId, name, internal, dist);
    t.distributions[name] = dist;
    t.internalParams[name] = internal;
    t.params[name] = toExternal(dist, internal);
    return t.params[name];
  }

  private draw(name: string, dist: Distribution): number {
    const fixed = this.frozen.systemAttrs.fixed_params as Record<string, Choice> | undefined;
    if (fixed !== undefined && name in fixed) {
      const internal = toInternal(dist, fixed[name]);
      if (!contains(dist, internal)) process.emitWarning(`fixed parameter "${name}" = ${fixed[name]} is outside its ` +
        `distribution`);
      return internal;
    }
    if (isSingle(dist)) return dist.kind === "categorical" ? 0 : dist.low;
    if (name in this.relative && contains(dist, this.relative[name])) return this.relative[name];
    return this.study.sampler.sampleIndependent(this.snapshot, this.frozen, name, dist);
  }

  /** Record an intermediate objective value (Optuna: a step reported twice keeps the first). */
  async report(value: number, step: number): Promise<void> {
    if (this.study.directions.length > 1) throw new WhetError("report() is not supported for multi-objective studies");
    if (!Number.isInteger(step) || step < 0)
      throw new WhetError(`report(): step must be a non-negative integer, got ${step}`);
    if (typeof value !== "number")
      throw new WhetError(`report(): value must be a number, got ${JSON.stringify(value)}`);
    if (this.frozen.intermediateValues.has(step)) return;
    await this.study.storage.setIntermediateValue(this.frozen.trialId, step, value);
    this.frozen.intermediateValues.set(step, value);
  }

  /** Whether the study's pruner would stop this trial now. */
  async shouldPrune(): Promise<boolean> {
    if (this.study.directions.length > 1)
      throw new WhetError("shouldPrune() is not supported for multi-objective studies");
    const trials = await this.study.storage.trials(this.study.studyId);
    const snapshot: StudySnapshot = { studyName: this.study.studyName, directions: this.study.directions, trials };
    const attrs: Record<string, unknown> = {};
    const prune = this.study.pruner.prune(snapshot, this.frozen, attrs);
    for (const [k, v] of Object.entries(attrs)) await this.study.storage.setTrialAttr("system", this.frozen.trialId, k,
      v);
    return prune;
  }

  async setUserAttr(key: string, value: unknown): Promise<void> {
    await this.study.storage.setTrialAttr("user", this.frozen.trialId, key, value);
    this.frozen.userAttrs[key] = value;
  }

  async setSystemAttr(key: string, value: unknown): Promise<void> {
    await this.study.storage.setTrialAttr("system", this.frozen.trialId, key, value);
    this.frozen.systemAttrs[key] = value;
  }
}
