import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import { calibration, softmaxRows, topLabel } from "./calibration.js";
import { classificationReport, classifierDetails, rocAuc } from "./classification_report.js";

type Prf = { precision: number; recall: number; f1: number };
const fx: { classification: Record<string,
  { y_true: number[]; y_pred: number[]; num_labels: number; expected: { macro_all: Prf; weighted_all: Prf; accuracy: number } }> } =
  JSON.parse(readFileSync(new URL("../../fixtures/metrics/sklearn_expected.json", import.meta.url), "utf8"));

const near = (a: number, b: number, what: string, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol,
  `${what}: ${a} vs ${b}`);

test("ROC-AUC: sklearn's documented example, ties count one half, one class gives NaN", () => {
  near(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75, "sklearn docstring");
  near(rocAuc([0, 1], [0.5, 0.5]), 0.5, "a tie");
  near(rocAuc([1, 0, 1], [0.9, 0.1, 0.8]), 1, "perfect");
  assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
  assert.throws(() => rocAuc([0, 2], [0.1, 0.2]), /reference 1 is 2/);
});

test("ROC-AUC equals the share of correctly ordered (positive, negative) pairs, counted one by one", () => {
  const rng = new Rng(7);
  const y = Array.from({ length: 60 }, () => rng.int(2));
  // Scores on a coarse grid so that ties happen.
  const s = y.map((v) => Math.round((rng.uniform() + 0.3 * v) * 8) / 8);
  let wins = 0, pairs = 0;
  for (let i = 0; i < y.length; i++) for (let j = 0; j < y.length; j++) {
    if (y[i] !== 1 || y[j] !== 0) continue;
    pairs++;
    wins += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
  }
  near(rocAuc(y, s), wins / pairs, "pair count");
});

test("ROC-AUC of hard 0/1 predictions is the balanced accuracy (fixture's binary case: 6/9 and 8/11 recalls)", () => {
  const c = fx.classification.binary;
  near(rocAuc(c.y_true, c.y_pred), (6 / 9 + 8 / 11) / 2, "binary fixture");
});

test("classification report: every row and both averages equal scikit-learn's (labels=range(k))", () => {
  for (const [name, c] of Object.entries(fx.classification)) {
    const names = Array.from({ length: c.num_labels }, (_, i) => `c${i}`);
    const r = classificationReport(c.y_true, c.y_pred, names);
    near(r.accuracy, c.expected.accuracy, `${name} accuracy`);
    for (const k of ["precision", "recall", "f1"] as const) {
      near(r.macro_avg[k], c.expected.macro_all[k], `${name} macro ${k}`);
      near(r.weighted_avg[k], c.expected.weighted_all[k], `${name} weighted ${k}`);
    }
    assert.equal(r.classes.reduce((s, x) => s + x.support, 0), c.y_true.length);
  }
});

test("softmax rows and the top label: first maximum wins", () => {
  const p = softmaxRows([0, Math.log(3), 1000, 1000], 2);
  near(p[0][0], 0.25, "row 0");
  near(p[1][0], 0.5, "large equal logits do not overflow");
  assert.deepEqual(topLabel(p).pred, [1, 0]);
});

test("ECE by hand: bins are right-closed, empty bins are null, MCE is the worst bin", () => {
  // 3 bins: (0, 1/3], (1/3, 2/3], (2/3, 1]. 0.6 and 2/3 fall in bin 1, 0.9 and 1.0 in bin 2.
  const c = calibration([0.6, 2 / 3, 0.9, 1.0], [true, false, true, false], 3);
  assert.deepEqual(c.bins.map((b) => b.count), [0, 2, 2]);
  assert.equal(c.bins[0].accuracy, null);
  const conf1 = (0.6 + 2 / 3) / 2, conf2 = 0.95;
  near(c.ece, 0.5 * Math.abs(0.5 - conf1) + 0.5 * Math.abs(0.5 - conf2), "ece");
  near(c.mce, 0.45, "mce");
  near(calibration([0.9, 0.6], [true, false], 10).ece, 0.35, "docstring example");
  near(calibration([0.9, 0.6], [true, false], 2).ece, 0.25, "one shared bin: |0.5 - 0.75|");
  assert.equal(calibration([0.5], [true]).bins.length, 15, "15 bins by default (Guo et al.)");
  assert.throws(() => calibration([1.2], [true]), /confidence 0 is 1.2/);
});

test("classifier details from logits: matrix, ROC-AUC of class 1 probabilities, calibration", () => {
  const d = classifierDetails([2, -1, 0, 1, -1, 3], [0, 1, 0], ["neg", "pos"]);
  assert.deepEqual(d.confusion_matrix, [[1, 1], [0, 1]]);
  assert.deepEqual(d.report.classes.map((r) => r.label), ["neg", "pos"]);
  // P(pos) = sigmoid(-3), sigmoid(1), sigmoid(4): the one positive (row 1) beats one negative of two.
  near(d.roc_auc!, 0.5, "roc_auc");
  assert.equal(d.calibration.bins.reduce((s, b) => s + b.count, 0), 3);
  const three = classifierDetails([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 1], ["a", "b", "c"]);
  assert.equal(three.roc_auc, undefined, "no ROC-AUC beyond two classes");
});
