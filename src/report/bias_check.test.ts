import assert from "node:assert/strict";
import { test } from "node:test";
import { biasCheck, positiveClass } from "./bias_check.js";

// A transparent classifier, so every number below can be worked out by hand: P(positive) is 0.9
// for a text with "good", 0.2 otherwise, and "not" or "she" take 0.5 off (a biased model).
async function predict(texts: readonly string[]): Promise<number[][]> {
  return texts.map((t) => {
    let p = /\bgood\b/i.test(t) ? 0.9 : 0.2;
    if (/\bnot\b/i.test(t)) p -= 0.5;
    if (/\bshe\b/i.test(t)) p -= 0.5;
    p = Math.min(0.99, Math.max(0.01, p));
    return [1 - p, p];
  });
}

const texts = ["he is good", "she is good", "it is bad", "the food was good", "no verb here", "he was bad"];
const labels = [1, 1, 0, 1, 0, 0];

test("counterfactual invariance: flip rate and shifts, worked out by hand", async () => {
  const r = await biasCheck({ texts, labelNames: ["negative", "positive"], labels, predict }, { counterfactuals: ["gender", "negation"], nBoot: 0 });
  const g = r.counterfactuals[0];
  // Gender applies to rows 0, 1, 5. Row 0: 0.9 -> 0.4 flips; row 1: 0.4 -> 0.9 flips; row 5: 0.2 -> 0.01 (clamped), no flip.
  assert.equal(g.tested, 3);
  assert.equal(g.flipped, 2);
  assert.ok(Math.abs(g.flip_rate - 2 / 3) < 1e-12);
  // Δ P(predicted class): row 0 pos 0.9->0.4 (-0.5), row 1 neg 0.6->0.1 (-0.5), row 5 neg 0.8->0.99 (+0.19).
  assert.ok(Math.abs(g.mean_abs_shift - (0.5 + 0.5 + 0.19) / 3) < 1e-12, `${g.mean_abs_shift}`);
  assert.ok(Math.abs(g.mean_shift! - (-0.5 + 0.5 - 0.19) / 3) < 1e-12, `${g.mean_shift}`);
  assert.deepEqual(g.examples.map((e) => e.row).sort(), [0, 1]);
  assert.equal(g.examples.find((e) => e.row === 0)!.perturbed, "she is good");
  assert.equal(g.examples.find((e) => e.row === 0)!.after.label, "negative");
});

test("negation (DIR): P(positive) must fall for positive predictions and rise for negative ones", async () => {
  const r = await biasCheck({ texts, labelNames: ["negative", "positive"], predict }, { counterfactuals: ["negation"] });
  const n = r.counterfactuals[0];
  assert.equal(n.type, "DIR");
  // Negatable rows: 0, 1, 2, 3, 5 (row 4 has no auxiliary). Predicted positive: 0 and 3 (P falls 0.5: pass).
  // Predicted negative: 1 (0.4 -> 0.01, wrong way by 0.39: fail), 2 (0.2 -> 0.01: fail), 5 (0.2 -> 0.01: fail).
  assert.equal(n.tested, 5);
  assert.equal(n.failed, 3);
  assert.deepEqual(n.examples.map((e) => e.row).sort(), [1, 2, 5]);
  assert.equal(r.evaluation, undefined, "no labels, no evaluation");
});

test("negation is skipped, with the reason, where the task does not say which class is positive", async () => {
  const r = await biasCheck({ texts, labelNames: ["sports", "politics"], predict }, { counterfactuals: ["negation"] });
  assert.match(r.counterfactuals[0].skipped!, /do not say which class is positive: pass --positive-label/);
  const forced = await biasCheck({ texts, labelNames: ["sports", "politics"], predict }, { counterfactuals: ["negation"], positiveLabel: 1 });
  assert.equal(forced.counterfactuals[0].tested, 5);
  assert.equal(positiveClass(["0", "1"]), 1);
  assert.equal(positiveClass(["正面", "负面"]), 0);
});

test("per-group metrics agree with the model's own predictions; tiny groups warn", async () => {
  const groups = ["m", "f", "x", "x", "x", "m"];
  const r = await biasCheck({ texts, labelNames: ["negative", "positive"], labels, groups, predict }, { counterfactuals: [], nBoot: 50, seed: 1 });
  const preds = (await predict(texts)).map((p) => (p[1] > p[0] ? 1 : 0));
  for (const g of ["m", "f", "x"]) {
    const rows = groups.flatMap((x, i) => (x === g ? [i] : []));
    const acc = rows.filter((i) => preds[i] === labels[i]).length / rows.length;
    assert.equal(r.groups!.metrics.accuracy.by_group[g], acc, `accuracy of group ${g}`);
  }
  assert.equal(r.warnings.length, 3, r.warnings.join("\n"));
  assert.match(r.warnings[0], /group "f" has only 1 row:/);
  assert.ok(r.evaluation!.calibration.ece >= 0);
  // References 0 (rows 2, 4, 5) are all predicted 0; references 1 (rows 0, 1, 3): "she is good" is predicted 0.
  assert.deepEqual(r.evaluation!.confusion_matrix, [[3, 0], [1, 2]]);
});

test("an unknown perturbation lists the available ones", async () => {
  await assert.rejects(biasCheck({ texts, labelNames: ["a", "b"], predict }, { counterfactuals: ["religion"] }), /unknown perturbation "religion"; available: gender, names/);
});
