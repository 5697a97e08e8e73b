import assert from "node:assert/strict";
import { test } from "node:test";
import { metricFrame, quantile, standardGroupMetrics } from "./metric_frame.js";

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

// Ten rows, two groups. Group a: refs 1 1 0 0 1 0, preds 1 0 0 1 1 0; group b: refs 1 0 1 0, preds 1 1 1 1.
const yTrue = [1, 1, 0, 0, 1, 0, 1, 0, 1, 0];
const yPred = [1, 0, 0, 1, 1, 0, 1, 1, 1, 1];
const group = ["a", "a", "a", "a", "a", "a", "b", "b", "b", "b"];

test("per-group metrics by hand: overall, by group, min, max, difference, ratio (fairlearn's definitions)", () => {
  const f = metricFrame(standardGroupMetrics("class", 2), yTrue, yPred, group, { nBoot: 0 });
  assert.deepEqual(f.groups, [{ name: "a", count: 6 }, { name: "b", count: 4 }]);
  const acc = f.metrics.accuracy;
  near(acc.by_group.a, 4 / 6, "accuracy a");
  near(acc.by_group.b, 2 / 4, "accuracy b");
  near(acc.overall, 6 / 10, "accuracy overall");
  near(acc.group_min, 0.5, "min");
  near(acc.group_max, 4 / 6, "max");
  near(acc.difference, 4 / 6 - 0.5, "difference");
  near(acc.ratio, 0.5 / (4 / 6), "ratio");
  // Group a: TP 2, FP 1, FN 1 -> precision 2/3, recall 2/3. Group b: TP 2, FP 2, FN 0.
  near(f.metrics.precision.by_group.a, 2 / 3, "precision a");
  near(f.metrics.precision.by_group.b, 0.5, "precision b");
  near(f.metrics.recall.by_group.b, 1, "recall b");
  near(f.metrics.f1.by_group.b, 2 / 3, "f1 b");
  near(f.metrics.selection_rate.by_group.a, 3 / 6, "selection rate a");
  near(f.metrics.selection_rate.by_group.b, 1, "selection rate b");
  near(f.metrics.false_positive_rate.by_group.b, 1, "FPR b");
  near(f.metrics.false_negative_rate.by_group.a, 1 / 3, "FNR a");
  assert.deepEqual(f.small_groups, ["b"], "4 rows < 5: flagged, still reported");
  assert.equal(f.metrics.accuracy.ci, undefined);
});

test("bootstrap intervals: seeded, contain the point estimate here, and collapse for a constant group", () => {
  const f1 = metricFrame(standardGroupMetrics("class", 2), yTrue, yPred, group, { nBoot: 300, seed: 3 });
  const f2 = metricFrame(standardGroupMetrics("class", 2), yTrue, yPred, group, { nBoot: 300, seed: 3 });
  const f3 = metricFrame(standardGroupMetrics("class", 2), yTrue, yPred, group, { nBoot: 300, seed: 4 });
  assert.deepEqual(f1, f2, "same seed, same intervals");
  assert.notDeepEqual(f1.metrics.accuracy.ci, f3.metrics.accuracy.ci, "another seed draws other rows");
  const ci = f1.metrics.accuracy.ci!;
  assert.ok(ci.overall[0] <= 0.6 && 0.6 <= ci.overall[1], `overall interval ${ci.overall}`);
  assert.ok(ci.by_group.a[0] >= 0 && ci.by_group.a[1] <= 1);
  // Group b's selection rate is 1 in every resample: the interval is [1, 1].
  assert.deepEqual(f1.metrics.selection_rate.ci!.by_group.b, [1, 1]);
});

test("two classes: precision and recall are NaN, not 0, in a group without predicted or actual positives", () => {
  const f = metricFrame(standardGroupMetrics("class", 2), [0, 0, 1, 0], [0, 0, 1, 1], ["f", "f", "m", "m"],
    { nBoot: 0 });
  assert.ok(Number.isNaN(f.metrics.precision.by_group.f) && Number.isNaN(f.metrics.recall.by_group.f));
  near(f.metrics.precision.by_group.m, 0.5, "precision m");
  near(f.metrics.precision.ratio, 1, "the undefined group is skipped");
  near(f.metrics.accuracy.by_group.f, 1, "accuracy f");
});

test("numpy-style linear quantiles", () => {
  near(quantile([1, 2, 3, 4], 0.5), 2.5, "median");
  near(quantile([4, 1, 3, 2], 0.25), 1.75, "q25");
  near(quantile([1, NaN, 3], 1), 3, "NaN skipped");
});

test("mismatched inputs and bad options say what is wrong", () => {
  assert.throws(() => metricFrame(standardGroupMetrics("class"), [1], [1, 0], ["a"]),
    /1 references, 2 predictions and 1 group values/);
  assert.throws(() => metricFrame(standardGroupMetrics("class"), [1], [1], ["a"], { nBoot: -1 }),
    /bootstrap replicates/);
});
