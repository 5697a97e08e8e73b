import { Rng } from "../core/rng.js";
import type { Distribution } from "./distributions.js";
import type { FrozenTrial, StudySnapshot } from "./frozen_trial.js";

/**
 * A sampler in Optuna's shape: an optional joint ("relative") draw over the parameters every
 * finished trial shares, and an independent draw for any other parameter. Values are internal
 * (floats; a categorical's choice index).
 */
export interface Sampler {
  readonly name: string;
  /** Called once when a trial starts: system attributes to record on it (the grid sampler's grid id). */
  beforeTrial?(study: StudySnapshot, trial: FrozenTrial): Record<string, unknown>;
  inferRelativeSearchSpace(study: StudySnapshot, trial: FrozenTrial): Record<string, Distribution>;
  sampleRelative(study: StudySnapshot, trial: FrozenTrial, space: Record<string, Distribution>): Record<string, number>;
  sampleIndependent(study: StudySnapshot, trial: FrozenTrial, name: string, dist: Distribution): number;
  /** After a trial finished: true asks the study to stop (the grid is exhausted). */
  afterTrial?(study: StudySnapshot): boolean;
}

/** A seed for a sampler created without one. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/** FNV-1a of a parameter name: keys the draw so it depends on (seed, trial, parameter) only. */
export function nameKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The random stream for one draw: reproducible whatever order or process trials run in. */
export function drawRng(seed: number, trialNumber: number, name: string): Rng {
  return new Rng(seed, trialNumber, nameKey(name));
}
