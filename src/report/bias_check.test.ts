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
  const r = await biasCheck({ texts, labelNames: ["negative", "positive"], labels, predict },
    { counterfactuals: ["gender", "negation"], nBoot: 0 });
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

test("negation (DIR): sentences predicted positive must not gain P(positive) when negated", async () => {
  const r = await biasCheck({ texts, labelNames: ["negative", "positive"], predict },
    { counterfactuals: ["negation"] });
  const n = r.counterfactuals[0];
  assert.equal(n.type, "DIR");
  // Predicted positive and negatable: rows 0 and 3; P(positive) 0.9 -> 0.4, both turn negative, none fails.
  assert.equal(n.tested, 2);
  assert.equal(n.flipped, 2);
  assert.equal(n.failed, 0);
  assert.ok(Math.abs(n.mean_shift! + 0.5) < 1e-12);
  assert.equal(r.evaluation, undefined, "no labels, no evaluation");
  // A model that reads "not" as mild praise: +0.05 stays within the tolerance.
  const praise = (bonus: number) => async (ts: readonly string[]) => (await predict(ts.map((t) => t.replace(/ not/,
    "")))).map((p, i) => {
    const q = Math.min(1, p[1] + (/ not/.test(ts[i]) ? bonus : 0));
    return [1 - q, q];
  });
  const mild = await biasCheck({ texts: ["he is good"], labelNames: ["neg", "pos"], predict: praise(0.05) },
    { counterfactuals: ["negation"] });
  assert.equal(mild.counterfactuals[0].failed, 0);
  const low = await biasCheck({ texts: ["it was good"], labelNames: ["neg", "pos"],
    predict: async (ts) => ts.map((t) => (t.includes("not") ? [0.1, 0.9] : [0.4, 0.6])) },
    { counterfactuals: ["negation"] });
  assert.equal(low.counterfactuals[0].failed, 1, "0.6 -> 0.9 when negated: fails");
  assert.equal(low.counterfactuals[0].examples[0].perturbed, "it was not good");
});

test("negation is skipped, with the reason, where the task does not say which class is positive", async () => {
  const r = await biasCheck({ texts, labelNames: ["sports", "politics"], predict }, { counterfactuals: ["negation"] });
  assert.match(r.counterfactuals[0].skipped!, /do not say which class is positive: pass --positive-label/);
  const forced = await biasCheck({ texts, labelNames: ["sports", "politics"], predict },
    { counterfactuals: ["negation"], positiveLabel: 1 });
  assert.equal(forced.counterfactuals[0].tested, 2);
  assert.equal(positiveClass(["0", "1"]), 1);
  assert.equal(positiveClass(["正面", "负面"]), 0);
});

test("per-group metrics agree with the model's own predictions; tiny groups warn", async () => {
  const groups = ["m", "f", "x", "x", "x", "m"];
  const r = await biasCheck({ texts, labelNames: ["negative", "positive"], labels, groups, predict },
    { counterfactuals: [], nBoot: 50, seed: 1 });
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
  await assert.rejects(biasCheck({ texts, labelNames: ["a", "b"], predict }, { counterfactuals: ["religion"] }),
    /unknown perturbation "religion"; available: gender, names/);
});
