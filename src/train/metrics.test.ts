import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import {
  accuracy, computeMetrics, confusionMatrix, matthewsCorrcoef, meanAbsoluteError, meanSquaredError, multiLabelScores,
  pearsonR, perClassScores, precisionRecallF1, predictionsFromLogits, r2Score, rankAverage, rootMeanSquaredError, spearmanR,
} from "./metrics.js";

// Expected numbers from scikit-learn 1.2.1 / SciPy 1.10.1 (Debian 12), written by
// scripts/fixtures/metrics_sklearn.py; null stands for NaN.
type Prf = { precision: number; recall: number; f1: number };
type PrfLists = { precision: number[]; recall: number[]; f1: number[] };
interface ClassCase {
  y_true: number[]; y_pred: number[]; num_labels: number;
  expected: {
    accuracy: number; mcc: number; confusion_matrix: number[][]; present_labels: number[];
    per_label_present: PrfLists; per_label_all: PrfLists; binary?: Prf;
    macro: Prf; micro: Prf; weighted: Prf; macro_all: Prf; micro_all: Prf; weighted_all: Prf;
  };
}
interface RegCase { y_true: number[]; y_pred: number[]; expected: Record<string, number | null> }
interface MultiCase { y_true: number[][]; logits: number[][]; y_pred: number[][]; expected: { accuracy: number; per_label: PrfLists; micro: Prf; macro: Prf; weighted: Prf } }
const fx: { classification: Record<string, ClassCase>; regression: Record<string, RegCase>; multilabel: Record<string, MultiCase> } =
  JSON.parse(readFileSync(new URL("../../fixtures/metrics/sklearn_expected.json", import.meta.url), "utf8"));

function close(actual: number, expected: number | null, what: string) {
  if (expected === null) return assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what}: ${actual} vs sklearn ${expected}`);
}
function closePrf(actual: Prf, expected: Prf, what: string) {
  for (const k of ["precision", "recall", "f1"] as const) close(actual[k], expected[k], `${what} ${k}`);
}

/** Logits whose argmax is `pred`, with other classes at varied lower values. */
function logitsFor(pred: number[], k: number) {
  return ndarray("float32", [pred.length, k], pred.flatMap((p, i) => Array.from({ length: k }, (_, j) => (j === p ? 2 : -((i + j) % 3)))));
}

test("classification metrics equal scikit-learn's on every fixture case", () => {
  for (const [name, c] of Object.entries(fx.classification)) {
    const { y_true: t, y_pred: p, num_labels: k, expected: e } = c;
    close(accuracy(t, p), e.accuracy, `${name} accuracy`);
    close(matthewsCorrcoef(t, p, k), e.mcc, `${name} mcc`);
    assert.deepEqual(confusionMatrix(t, p, k), e.confusion_matrix, `${name} confusion matrix`);
    const per = perClassScores(t, p, k);
    for (const m of ["precision", "recall", "f1"] as const) {
      e.per_label_all[m].forEach((v, j) => close(per[m][j], v, `${name} class ${j} ${m}`));
      e.per_label_present[m].forEach((v, j) => close(per[m][e.present_labels[j]], v, `${name} present class ${e.present_labels[j]} ${m}`));
    }
    for (const average of ["macro", "micro", "weighted"] as const) {
      closePrf(precisionRecallF1(t, p, { numLabels: k, average }), e[average], `${name} ${average}`);
      closePrf(precisionRecallF1(t, p, { numLabels: k, average, labels: "all" }), e[`${average}_all`], `${name} ${average} labels=all`);
    }
    if (e.binary) closePrf(precisionRecallF1(t, p, { numLabels: k, average: "binary" }), e.binary, `${name} binary`);

    // computeMetrics from logits: f1 is binary F1 for 2 labels and macro F1 otherwise.
    const m = computeMetrics("single_label_classification", logitsFor(p, k), ndarray("int64", [t.length], t));
    close(m.accuracy, e.accuracy, `${name} computeMetrics accuracy`);
    close(m.mcc, e.mcc, `${name} computeMetrics mcc`);
    closePrf(m as unknown as Prf, k === 2 ? e.binary! : e.macro, `${name} computeMetrics headline`);
    for (const average of ["macro", "micro", "weighted"] as const) {
      closePrf({ precision: m[`precision_${average}`], recall: m[`recall_${average}`], f1: m[`f1_${average}`] }, e[average], `${name} computeMetrics ${average}`);
    }
    assert.deepEqual(Object.keys(m).sort(), ["accuracy", "f1", "f1_macro", "f1_micro", "f1_weighted", "mcc", "precision",
      "precision_macro", "precision_micro", "precision_weighted", "recall", "recall_macro", "recall_micro", "recall_weighted"]);
  }
});

test("the label set of macro averages: present labels by default, 0..numLabels-1 on request", () => {
  const c = fx.classification.multiclass6_unseen_class;
  const present = precisionRecallF1(c.y_true, c.y_pred, { numLabels: 6, average: "macro" });
  const all = precisionRecallF1(c.y_true, c.y_pred, { numLabels: 6, average: "macro", labels: "all" });
  // Class 5 occurs nowhere: "all" averages its 0 in, over 6 classes instead of 5.
  close(all.f1, (present.f1 * 5) / 6, "macro over 6");
  const m = computeMetrics("single_label_classification", logitsFor(c.y_pred, 6), ndarray("int64", [c.y_true.length], c.y_true), { labels: "all" });
  close(m.f1, c.expected.macro_all.f1, "computeMetrics labels=all");
});

test("average \"binary\" refuses more than two classes, saying what to use instead", () => {
  assert.throws(() => precisionRecallF1([0, 1, 2], [0, 2, 1], { numLabels: 3, average: "binary" }), (e: Error) =>
    e instanceof WhetError && e.message.includes(`average "binary" needs exactly 2 classes`) &&
    e.message.includes("numLabels=3") && e.message.includes(`use average "macro", "micro" or "weighted"`));
});

test("classification inputs are checked: lengths, class ids, emptiness", () => {
  assert.throws(() => accuracy([0, 1], [0]), /2 references but 1 predictions/);
  assert.throws(() => accuracy([], []), /no examples to score/);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /reference 1 is 3, not a class id in 0\.\.2/);
  assert.throws(() => matthewsCorrcoef([0, 1], [0, 0.5], 2), /prediction 1 is 0\.5/);
});

test("regression metrics equal scikit-learn's and SciPy's", () => {
  for (const [name, c] of Object.entries(fx.regression)) {
    const { y_true: t, y_pred: p, expected: e } = c;
    close(meanSquaredError(t, p), e.mse, `${name} mse`);
    close(meanAbsoluteError(t, p), e.mae, `${name} mae`);
    close(rootMeanSquaredError(t, p), e.rmse, `${name} rmse`);
    close(r2Score(t, p), e.r2, `${name} r2`);
    close(pearsonR(t, p), e.pearson, `${name} pearson`);
    close(spearmanR(t, p), e.spearmanr, `${name} spearmanr`);
    const m = computeMetrics("regression", ndarray("float32", [p.length, 1], p), ndarray("float32", [t.length], t));
    // The logits pass through float32 here; every fixture value is exact in float32.
    for (const k of ["mse", "mae", "rmse", "r2", "pearson", "spearmanr"]) close(m[k], e[k], `${name} computeMetrics ${k}`);
  }
});

test("average ranks for ties, as scipy.stats.rankdata", () => {
  assert.deepEqual(Array.from(rankAverage([10, 20, 10, 30, 20, 20])), [1.5, 4, 1.5, 6, 4, 4]);
  assert.ok(Number.isNaN(spearmanR([1, 2, 3], [5, 5, 5])));
  assert.equal(pearsonR([1, 2], [3, 1]), -1); // two points: the sign, as SciPy returns
  assert.equal(r2Score([2, 2, 2], [2, 2, 2]), 1); // constant references fitted exactly
  assert.equal(r2Score([2, 2, 2], [1, 2, 2]), 0); // …and not exactly (sklearn's force_finite)
});

test("multi-label metrics from logits equal scikit-learn's", () => {
  for (const [name, c] of Object.entries(fx.multilabel)) {
    const k = c.y_true[0].length, n = c.y_true.length;
    const logits = ndarray("float64", [n, k], c.logits.flat());
    // sigmoid(1e-20) is exactly 0.5 in float64: not above the threshold, as in the fixture.
    assert.deepEqual(Array.from(predictionsFromLogits("multi_label_classification", logits).data), c.y_pred.flat());
    const s = multiLabelScores(c.y_true.flat(), c.y_pred.flat(), k);
    close(s.accuracy, c.expected.accuracy, `${name} subset accuracy`);
    for (const average of ["micro", "macro", "weighted"] as const) closePrf(s[average], c.expected[average], `${name} ${average}`);
    const m = computeMetrics("multi_label_classification", logits, ndarray("float32", [n, k], c.y_true.flat()));
    close(m.accuracy, c.expected.accuracy, `${name} computeMetrics accuracy`);
    close(m.f1, c.expected.micro.f1, `${name} computeMetrics f1 = micro`);
    close(m.f1_macro, c.expected.macro.f1, `${name} computeMetrics f1_macro`);
    close(m.f1_weighted, c.expected.weighted.f1, `${name} computeMetrics f1_weighted`);
    close(m.precision_macro, c.expected.macro.precision, `${name} computeMetrics precision_macro`);
    close(m.recall_micro, c.expected.micro.recall, `${name} computeMetrics recall_micro`);
  }
  assert.throws(() => multiLabelScores([0, 2], [0, 1], 2), /row 0, label 1 is \(reference 2, prediction 1\); expected 0 or 1/);
});

test("predictions from logits: argmax keeps the first maximum, regression squeezes [N, 1]", () => {
  const argmax = predictionsFromLogits("single_label_classification", ndarray("float64", [3, 3], [1, 3, 3, 0, 0, 0, -1, NaN, 5]));
  assert.deepEqual(argmax.shape, [3]);
  assert.deepEqual(Array.from(argmax.data), [1, 0, 1]); // ties → first; NaN wins, as numpy's argmax
  const reg = predictionsFromLogits("regression", ndarray("float32", [2, 1], [0.5, -1.5]));
  assert.deepEqual([reg.shape, Array.from(reg.data)], [[2], [0.5, -1.5]]);
  assert.throws(() => predictionsFromLogits("regression", ndarray("float32", [2, 2], [0, 0, 0, 0])), /must be \[N\] or \[N, 1\], got \[2, 2\]/);
});

test("token classification: seqeval over tags from id2label, labels -100 skipped", () => {
  const id2label = { "0": "O", "1": "B-PER", "2": "I-PER", "3": "B-LOC", "4": "I-LOC" };
  // 2 sequences × 4 tokens; position 0 is [CLS] and padding has label -100.
  const labels = [-100, 1, 2, 0, -100, 3, -100, -100];
  const predIds = [0, 1, 2, 0, 4, 0, 0, 0]; // PER right; LOC missed (predicted O)
  const logits = ndarray("float32", [2, 4, 5], predIds.flatMap((p) => [0, 1, 2, 3, 4].map((j) => (j === p ? 1 : 0))));
  const m = computeMetrics("token_classification", logits, ndarray("int64", [2, 4], labels), { id2label });
  // Kept tokens: [B-PER I-PER O] vs same, [B-LOC] vs [O]: 1 of 2 entities found, 1 predicted.
  assert.deepEqual(m, {
    precision: 1, recall: 0.5, f1: 2 / 3, accuracy: 3 / 4,
    LOC_precision: 0, LOC_recall: 0, LOC_f1: 0, LOC_number: 1,
    PER_precision: 1, PER_recall: 1, PER_f1: 1, PER_number: 1,
  });
  // id2label as an array, strict mode: a predicted I-LOC without B-LOC is no entity.
  const names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];
  const strictLogits = ndarray("float32", [1, 2, 5], [0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const strict = computeMetrics("token_classification", strictLogits, ndarray("int64", [1, 2], [3, 4]), { id2label: names, seqevalMode: "strict" });
  assert.equal(strict.precision, 0);
  const dflt = computeMetrics("token_classification", strictLogits, ndarray("int64", [1, 2], [3, 4]), { id2label: names });
  assert.equal(dflt.f1, 1); // default mode reads I-LOC I-LOC as the LOC entity
  assert.throws(() => computeMetrics("token_classification", strictLogits, ndarray("int64", [1, 2], [3, 4])), /need id2label/);
});
