// Evaluation metrics, as Python users get them from `evaluate`, scikit-learn 1.2 and SciPy 1.10,
// in float64 with no dependency. Each function follows the library's default conventions, checked
// against fixtures/metrics/sklearn_expected.json (made by scripts/fixtures/metrics_sklearn.py):
//   - zero_division="warn": a ratio with a zero denominator (precision of a class never predicted,
//     recall of a class never present) scores 0.0, and so does F1 where precision + recall is 0;
//   - macro averages run over sklearn's default label set, the labels present in the references
//     or the predictions (`labels: "present"`), unless `labels: "all"` asks for 0..numLabels-1;
//   - multi-label averages always run over every column, as sklearn does for indicator arrays;
//   - Pearson and Spearman are NaN for a constant input, as SciPy returns.
import { WhetError } from "../core/errors.js";
import { type NDArray, toFloat64 } from "../core/ndarray.js";
import type { ProblemType } from "../io/config.js";
import { prfFromCounts, seqevalReport, type SeqevalMode } from "./seqeval.js";

/** sklearn's `average`: "binary" scores class 1 of a two-class task alone (pos_label=1). */
export type Average = "binary" | "macro" | "micro" | "weighted";

/**
 * Which labels a macro average runs over. "present" (the default) is sklearn's and therefore
 * evaluate's: the labels that occur in the references or the predictions. "all" is 0..numLabels-1,
 * which scores a class that occurs nowhere as 0 and pulls the average down; the Trainer should use
 * "present", so its numbers equal a Python user's `compute_metrics`. Micro and weighted averages
 * and MCC are the same under both.
 */
export type LabelSet = "present" | "all";

export interface ClassScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

function checkLengths(what: string, yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  if (yTrue.length !== yPred.length) {
    throw new WhetError(`${what}: ${yTrue.length} references but ${yPred.length} predictions`);
  }
  if (yTrue.length === 0) throw new WhetError(`${what}: no examples to score`);
}

function checkClasses(what: string, yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numLabels: number): void {
  if (!Number.isInteger(numLabels) || numLabels < 1) throw new WhetError(`${what}: numLabels must be a positive integer, got ${numLabels}`);
  checkLengths(what, yTrue, yPred);
  for (const [side, y] of [["reference", yTrue], ["prediction", yPred]] as const) {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isInteger(y[i]) || y[i] < 0 || y[i] >= numLabels) {
        throw new WhetError(`${what}: ${side} ${i} is ${y[i]}, not a class id in 0..${numLabels - 1}`);
      }
    }
  }
}

/** Fraction of predictions equal to their reference (sklearn.metrics.accuracy_score). */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths("accuracy", yTrue, yPred);
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/**
 * Counts: row = reference class, column = predicted class, over classes 0..numLabels-1
 * (sklearn.metrics.confusion_matrix with labels=range(numLabels)).
 *
 * @example
 * confusionMatrix([0, 1, 1], [0, 0, 1], 2); // [[1, 0], [1, 1]]
 */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numLabels: number): number[][] {
  checkClasses("confusion matrix", yTrue, yPred, numLabels);
  const m = Array.from({ length: numLabels }, () => new Array<number>(numLabels).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

/** Per-class true positives, predicted counts and reference counts from a confusion matrix. */
function classCounts(m: number[][]): { tp: number[]; predicted: number[]; actual: number[] } {
  const k = m.length;
  const tp = m.map((row, i) => row[i]);
  const actual = m.map((row) => row.reduce((s, x) => s + x, 0));
  const predicted = Array.from({ length: k }, (_, j) => m.reduce((s, row) => s + row[j], 0));
  return { tp, predicted, actual };
}

/**
 * Precision, recall and F1 of single-label predictions (sklearn's precision_recall_fscore_support).
 * "binary" needs numLabels = 2 and scores class 1; other averages pool the classes.
 *
 * @example
 * precisionRecallF1([0, 1, 1, 0], [0, 1, 0, 0], { numLabels: 2, average: "binary" }); // P 1, R 0.5, F1 2/3
 */
export function precisionRecallF1(
  yTrue: ArrayLike<number>, yPred: ArrayLike<number>,
  opts: { numLabels: number; average: Average; labels?: LabelSet },
): ClassScores {
  const { numLabels, average } = opts;
  if (average === "binary" && numLabels !== 2) {
    throw new WhetError(`precision/recall/F1 with average "binary" needs exactly 2 classes (it scores class 1), ` +
      `got numLabels=${numLabels}; use average "macro", "micro" or "weighted" for ${numLabels} classes`);
  }
  const { tp, predicted, actual } = classCounts(confusionMatrix(yTrue, yPred, numLabels));
  let keep = tp.map((_, k) => k);
  if (average === "binary") keep = [1];
  else if ((opts.labels ?? "present") === "present") keep = keep.filter((k) => actual[k] > 0 || predicted[k] > 0);
  const pick = (xs: number[]) => keep.map((k) => xs[k]);
  return prfFromCounts(pick(tp), pick(predicted), pick(actual), average === "binary" ? "macro" : average);
}

/**
 * Precision, recall, F1 and support of each class 0..numLabels-1 (sklearn with average=None and
 * labels=range(numLabels)): the rows of a classification report.
 */
export function perClassScores(
  yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numLabels: number,
): { precision: number[]; recall: number[]; f1: number[]; support: number[] } {
  const { tp, predicted, actual } = classCounts(confusionMatrix(yTrue, yPred, numLabels));
  const rows = tp.map((t, k) => prfFromCounts([t], [predicted[k]], [actual[k]], "macro"));
  return { precision: rows.map((r) => r.precision), recall: rows.map((r) => r.recall), f1: rows.map((r) => r.f1), support: actual };
}

/**
 * Matthews correlation coefficient, multiclass form (sklearn.metrics.matthews_corrcoef):
 * (c·s − Σ t_k p_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)), and 0.0 where a factor under the root is 0
 * (one class only in the references or the predictions, even when every prediction is right).
 */
export function matthewsCorrcoef(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numLabels: number): number {
  const { tp, predicted: p, actual: t } = classCounts(confusionMatrix(yTrue, yPred, numLabels));
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  const correct = tp.reduce((s, x) => s + x, 0);
  const n = yTrue.length;
  const covTP = correct * n - dot(t, p);
  const covPP = n * n - dot(p, p);
  const covTT = n * n - dot(t, t);
  return covPP * covTT === 0 ? 0 : covTP / Math.sqrt(covTT * covPP);
}

// ---- regression ------------------------------------------------------------------------------

const mean = (x: ArrayLike<number>) => Array.from(x).reduce((s, v) => s + v, 0) / x.length;

/** Mean of (reference − prediction)² (sklearn.metrics.mean_squared_error). */
export function meanSquaredError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths("mean squared error", yTrue, yPred);
  return mean(Array.from(yTrue, (t, i) => (t - yPred[i]) ** 2));
}

/** Mean of |prediction − reference| (sklearn.metrics.mean_absolute_error). */
export function meanAbsoluteError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths("mean absolute error", yTrue, yPred);
  return mean(Array.from(yTrue, (t, i) => Math.abs(yPred[i] - t)));
}

/** Square root of the mean squared error (sklearn's mean_squared_error(squared=False)). */
export function rootMeanSquaredError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  return Math.sqrt(meanSquaredError(yTrue, yPred));
}

/**
 * Coefficient of determination 1 − SS_res / SS_tot (sklearn.metrics.r2_score): 1.0 for a perfect
 * fit of constant references, 0.0 for an imperfect one (sklearn's force_finite), NaN below 2 examples.
 */
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkLengths("R²", yTrue, yPred);
  if (yTrue.length < 2) return NaN;
  const m = mean(yTrue);
  let res = 0, tot = 0;
  for (let i = 0; i < yTrue.length; i++) {
    res += (yTrue[i] - yPred[i]) ** 2;
    tot += (yTrue[i] - m) ** 2;
  }
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}

const isConstant = (x: ArrayLike<number>) => Array.prototype.every.call(x, (v: number) => v === x[0]);

/** Pearson's r as scipy.stats.pearsonr computes it: NaN when either input is constant. */
export function pearsonR(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkLengths("Pearson correlation", x, y);
  if (x.length < 2 || isConstant(x) || isConstant(y)) return NaN;
  if (x.length === 2) return Math.sign(x[1] - x[0]) * Math.sign(y[1] - y[0]);
  const mx = mean(x), my = mean(y);
  const xm = Array.from(x, (v) => v - mx), ym = Array.from(y, (v) => v - my);
  // numpy's linalg.norm of a vector: sqrt(x · x), no scaling.
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, a) => s + a * a, 0));
  const nx = norm(xm), ny = norm(ym);
  let r = 0;
  for (let i = 0; i < xm.length; i++) r += (xm[i] / nx) * (ym[i] / ny);
  return Math.max(Math.min(r, 1), -1);
}

/**
 * 1-based ranks, ties sharing the average of their positions (scipy.stats.rankdata "average").
 *
 * @example
 * rankAverage([10, 20, 10, 30]); // [1.5, 3, 1.5, 4]
 */
export function rankAverage(x: ArrayLike<number>): Float64Array {
  const order = Array.from(x, (_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  const ranks = new Float64Array(x.length);
  for (let lo = 0; lo < order.length;) {
    let hi = lo + 1;
    while (hi < order.length && x[order[hi]] === x[order[lo]]) hi++;
    // scipy: 0.5 * (count[dense] + count[dense - 1] + 1), i.e. the mean of positions lo+1..hi.
    for (let j = lo; j < hi; j++) ranks[order[j]] = 0.5 * (hi + lo + 1);
    lo = hi;
  }
  return ranks;
}

/**
 * Spearman's ρ (scipy.stats.spearmanr): the correlation of average ranks, computed as numpy's
 * corrcoef does; NaN when either input is constant.
 */
export function spearmanR(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkLengths("Spearman correlation", x, y);
  if (x.length < 2 || isConstant(x) || isConstant(y)) return NaN;
  const rx = rankAverage(x), ry = rankAverage(y);
  const mx = mean(rx), my = mean(ry);
  let cxy = 0, cxx = 0, cyy = 0;
  for (let i = 0; i < rx.length; i++) {
    cxy += (rx[i] - mx) * (ry[i] - my);
    cxx += (rx[i] - mx) ** 2;
    cyy += (ry[i] - my) ** 2;
  }
  const f = rx.length - 1;
  return Math.max(Math.min(cxy / f / Math.sqrt(cxx / f) / Math.sqrt(cyy / f), 1), -1);
}

// ---- multi-label -----------------------------------------------------------------------------

/**
 * Scores of multi-hot predictions, row-major [examples, numLabels] of 0/1 (the caller thresholds
 * probabilities). accuracy is subset accuracy (every label of a row right); averages run over
 * all numLabels columns, as sklearn's do for indicator arrays, absent columns scoring 0.
 */
export function multiLabelScores(
  yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numLabels: number,
): { accuracy: number; micro: ClassScores; macro: ClassScores; weighted: ClassScores } {
  checkLengths("multi-label scores", yTrue, yPred);
  if (!Number.isInteger(numLabels) || numLabels < 1 || yTrue.length % numLabels !== 0) {
    throw new WhetError(`multi-label scores: ${yTrue.length} values do not form rows of numLabels=${numLabels}`);
  }
  const tp = new Array<number>(numLabels).fill(0), predicted = [...tp], actual = [...tp];
  let exact = 0;
  for (let row = 0; row < yTrue.length / numLabels; row++) {
    let same = true;
    for (let k = 0; k < numLabels; k++) {
      const i = row * numLabels + k, t = yTrue[i], p = yPred[i];
      if ((t !== 0 && t !== 1) || (p !== 0 && p !== 1)) {
        throw new WhetError(`multi-label scores: row ${row}, label ${k} is (reference ${t}, prediction ${p}); expected 0 or 1`);
      }
      tp[k] += t & p; predicted[k] += p; actual[k] += t;
      same &&= t === p;
    }
    if (same) exact++;
  }
  return {
    accuracy: exact / (yTrue.length / numLabels),
    micro: prfFromCounts(tp, predicted, actual, "micro"),
    macro: prfFromCounts(tp, predicted, actual, "macro"),
    weighted: prfFromCounts(tp, predicted, actual, "weighted"),
  };
}

// ---- from logits -----------------------------------------------------------------------------

/** A sequence-classification problem type (config.json's problem_type), or NER. */
export type MetricsTask = ProblemType | "token_classification";

/**
 * What a model's logits predict: class ids by argmax over the last axis (single-label, token
 * classification; the first maximum wins, as numpy's argmax), multi-hot 0/1 where
 * sigmoid(logit) > threshold (multi-label, threshold 0.5 by default), the values themselves
 * (regression, [N, 1] read as [N]).
 */
export function predictionsFromLogits(
  task: MetricsTask, logits: NDArray, opts: { threshold?: number } = {},
): { shape: number[]; data: Float64Array } {
  const x = toFloat64(logits), shape = [...logits.shape];
  if (task === "regression") {
    if (shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
      throw new WhetError(`regression metrics: logits must be [N] or [N, 1], got [${shape.join(", ")}]`);
    }
    return { shape: [shape[0]], data: Float64Array.from(x) };
  }
  const k = shape[shape.length - 1];
  if (task === "multi_label_classification") {
    const threshold = opts.threshold ?? 0.5;
    return { shape, data: x.map((v) => (1 / (1 + Math.exp(-v)) > threshold ? 1 : 0)) };
  }
  const rows = x.length / k, out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < k && !Number.isNaN(x[r * k + best]); j++) {
      const v = x[r * k + j];
      if (v > x[r * k + best] || Number.isNaN(v)) best = j;
    }
    out[r] = best;
  }
  return { shape: shape.slice(0, -1), data: out };
}

export interface ComputeMetricsOptions {
  /** Label set of the macro averages ("present", sklearn's default, unless told). */
  readonly labels?: LabelSet;
  /** Multi-label: probability above which a label is predicted (0.5). */
  readonly threshold?: number;
  /** Token classification: tag name of each class id (config.json's id2label). */
  readonly id2label?: readonly string[] | Readonly<Record<string, string>>;
  /** Token classification: seqeval's chunking ("default", conlleval-like, unless told). */
  readonly seqevalMode?: SeqevalMode;
}

/**
 * All metrics of a task as one flat record; the Trainer reports them as `eval_<name>` and
 * `metric_for_best_model` names one of them.
 *   single_label_classification: accuracy, precision, recall, f1 (binary F1 of class 1 when there
 *     are 2 labels, macro otherwise), precision_macro, recall_macro, f1_macro, precision_micro,
 *     recall_micro, f1_micro, precision_weighted, recall_weighted, f1_weighted, mcc.
 *   multi_label_classification: accuracy (subset), f1 (= f1_micro), f1_micro, f1_macro,
 *     f1_weighted, precision_micro, recall_micro, precision_macro, recall_macro.
 *   regression: mse, mae, rmse, r2, pearson, spearmanr.
 *   token_classification (labels -100 skipped): precision, recall, f1 (seqeval micro averages),
 *     accuracy (tokens), and per entity type <TYPE>_precision, <TYPE>_recall, <TYPE>_f1, <TYPE>_number.
 *
 * @example
 * const logits = ndarray("float32", [3, 2], [2, -1, 0, 1, -1, 3]);
 * computeMetrics("single_label_classification", logits, ndarray("int64", [3], [0, 1, 0])).f1; // 2/3
 */
export function computeMetrics(
  task: MetricsTask, logits: NDArray, labels: NDArray, opts: ComputeMetricsOptions = {},
): Record<string, number> {
  const pred = predictionsFromLogits(task, logits, opts).data;
  const ref = toFloat64(labels);
  const k = logits.shape[logits.shape.length - 1];
  if (ref.length !== pred.length) {
    throw new WhetError(`${task} metrics: logits [${logits.shape.join(", ")}] need ${pred.length} labels, got labels of shape [${labels.shape.join(", ")}]`);
  }
  switch (task) {
    case "regression": {
      return {
        mse: meanSquaredError(ref, pred), mae: meanAbsoluteError(ref, pred), rmse: rootMeanSquaredError(ref, pred),
        r2: r2Score(ref, pred), pearson: pearsonR(ref, pred), spearmanr: spearmanR(ref, pred),
      };
    }
    case "multi_label_classification": {
      const s = multiLabelScores(ref, pred, k);
      return {
        accuracy: s.accuracy, f1: s.micro.f1, f1_micro: s.micro.f1, f1_macro: s.macro.f1, f1_weighted: s.weighted.f1,
        precision_micro: s.micro.precision, recall_micro: s.micro.recall,
        precision_macro: s.macro.precision, recall_macro: s.macro.recall,
      };
    }
    case "single_label_classification": {
      if (k < 2) throw new WhetError(`single_label_classification metrics: logits need at least 2 classes, got [${logits.shape.join(", ")}]`);
      const out: Record<string, number> = { accuracy: accuracy(ref, pred) };
      for (const average of ["macro", "micro", "weighted"] as const) {
        const s = precisionRecallF1(ref, pred, { numLabels: k, average, labels: opts.labels });
        Object.assign(out, { [`precision_${average}`]: s.precision, [`recall_${average}`]: s.recall, [`f1_${average}`]: s.f1 });
      }
      const head = precisionRecallF1(ref, pred, { numLabels: k, average: k === 2 ? "binary" : "macro", labels: opts.labels });
      return { ...out, precision: head.precision, recall: head.recall, f1: head.f1, mcc: matthewsCorrcoef(ref, pred, k) };
    }
    case "token_classification":
      return tokenMetrics(pred, ref, logits.shape, opts);
  }
}

/** seqeval over the positions whose label is not -100 (special tokens, later word pieces). */
function tokenMetrics(pred: Float64Array, ref: Float64Array, shape: readonly number[], opts: ComputeMetricsOptions): Record<string, number> {
  if (shape.length !== 3) throw new WhetError(`token_classification metrics: logits must be [batch, tokens, labels], got [${shape.join(", ")}]`);
  const id2label = opts.id2label;
  if (!id2label) throw new WhetError("token_classification metrics need id2label to read class ids as tags such as B-PER");
  const tag = (id: number) => {
    const name = Array.isArray(id2label) ? id2label[id] : (id2label as Record<string, string>)[String(id)];
    if (name === undefined) throw new WhetError(`token_classification metrics: class id ${id} has no name in id2label`);
    return name;
  };
  const [batch, tokens] = shape;
  const refs: string[][] = [], preds: string[][] = [];
  for (let b = 0; b < batch; b++) {
    const r: string[] = [], p: string[] = [];
    for (let t = 0; t < tokens; t++) {
      const i = b * tokens + t;
      if (ref[i] === -100) continue;
      r.push(tag(ref[i]));
      p.push(tag(pred[i]));
    }
    refs.push(r);
    preds.push(p);
  }
  const report = seqevalReport(refs, preds, { mode: opts.seqevalMode });
  const out: Record<string, number> = {
    precision: report.micro.precision, recall: report.micro.recall, f1: report.micro.f1, accuracy: report.accuracy,
  };
  for (const [type, s] of Object.entries(report.types)) {
    Object.assign(out, { [`${type}_precision`]: s.precision, [`${type}_recall`]: s.recall, [`${type}_f1`]: s.f1, [`${type}_number`]: s.support });
  }
  return out;
}
