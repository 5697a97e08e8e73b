import assert from "node:assert/strict";
import { test } from "node:test";
import type { FrozenTrial, StudySnapshot, TrialState } from "./frozen_trial.js";
import { crc32, HyperbandPruner, MedianPruner, nanPercentile, SuccessiveHalvingPruner } from "./pruners.js";

let nextId = 0;
function trial(state: TrialState, curve: number[], systemAttrs: Record<string, unknown> = {}): FrozenTrial {
  const id = nextId++;
  return { trialId: id, number: id, state, values: state === "COMPLETE" ? [curve[curve.length - 1]] : null,
    datetimeStart: null,
    datetimeComplete: null, params: {}, internalParams: {}, distributions: {}, userAttrs: {}, systemAttrs,
    intermediateValues: new Map(curve.map((v, i) => [i, v])) };
}
const snap = (trials: FrozenTrial[], direction: "minimize" | "maximize" = "minimize"): StudySnapshot =>
  ({ studyName: "study", directions: [direction], trials });

test("median pruner: waits for 5 completed trials, then prunes a trial worse than the median at its step", () => {
  const done = [1, 2, 3, 4, 5].map((v) => trial("COMPLETE", [v, v / 2]));
  const bad = trial("RUNNING", [3.5]);
  const good = trial("RUNNING", [2.5]);
  const p = new MedianPruner();
  assert.equal(p.prune(snap(done.slice(0, 4)), bad), false, "fewer than n_startup_trials completed");
  assert.equal(p.prune(snap(done), bad), true);
  assert.equal(p.prune(snap(done), good), false);
  // maximize: larger is better, so the same values flip
  assert.equal(p.prune(snap(done, "maximize"), bad), false);
  assert.equal(p.prune(snap(done, "maximize"), good), true);
  assert.equal(p.prune(snap(done), trial("RUNNING", [NaN])), true, "a NaN report prunes");
});

test("numpy's percentile (linear)", () => {
  assert.equal(nanPercentile([1, 5, 2, 8, 3], 50), 3);
  assert.equal(nanPercentile([1, 5, 2, 8], 25), 1.75);
});

test("successive halving: rungs at min_resource * eta^k, promote the top 1/eta", () => {
  const p = new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2 });
  const others = [trial("COMPLETE", [0.1, 0.1], { completed_rung_0: 0.1 }),
    trial("COMPLETE", [0.2, 0.2], { completed_rung_0: 0.2 }),
    trial("COMPLETE", [0.3, 0.3], { completed_rung_0: 0.3 })];
  const t = trial("RUNNING", [0.9, 0.9]);
  const attrs: Record<string, unknown> = {};
  assert.equal(p.prune(snap([...others, t]), t, attrs), true);
  assert.deepEqual(attrs, { completed_rung_0: 0.9 });
  const best = trial("RUNNING", [0.05, 0.05]);
  assert.equal(p.prune(snap([...others, best]), best, {}), false);
});

test("hyperband assigns brackets by crc32 of '{study}_{number}', as Optuna", () => {
  // binascii.crc32(b"study_0") … (Python)
  assert.deepEqual([0, 1, 2, 3].map((i) => crc32(`study_${i}`)), [368277276, 1660176266, 4227667504, 2365204134]);
  const p = new HyperbandPruner({ maxResource: 9 });
  const t = trial("RUNNING", [1]);
  assert.equal(typeof p.prune(snap([t]), t, {}), "boolean");
});
