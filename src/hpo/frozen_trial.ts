import type { Choice, Distribution } from "./distributions.js";

/** Trial states with Optuna's enum names, as stored in the `trials.state` column. */
export type TrialState = "RUNNING" | "COMPLETE" | "PRUNED" | "FAIL" | "WAITING";
export const FINISHED_STATES: readonly TrialState[] = ["COMPLETE", "PRUNED", "FAIL"];

export type Direction = "minimize" | "maximize";

/** A trial as read back from storage (Optuna's FrozenTrial). */
export interface FrozenTrial {
  trialId: number;
  number: number;
  state: TrialState;
  /** one value per objective, null until COMPLETE */
  values: number[] | null;
  datetimeStart: Date | null;
  datetimeComplete: Date | null;
  params: Record<string, Choice>;
  /** the stored floats behind `params` (a categorical's choice index) */
  internalParams: Record<string, number>;
  distributions: Record<string, Distribution>;
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
  /** step -> reported value */
  intermediateValues: Map<number, number>;
}

/** The largest reported step, or null when nothing was reported. */
export function lastStep(t: FrozenTrial): number | null {
  let last: number | null = null;
  for (const s of t.intermediateValues.keys()) if (last === null || s > last) last = s;
  return last;
}

/** What samplers and pruners see of a study: its directions and a snapshot of its trials. */
export interface StudySnapshot {
  studyName: string;
  directions: Direction[];
  trials: FrozenTrial[];
}

export const isMultiObjective = (s: StudySnapshot): boolean => s.directions.length > 1;
