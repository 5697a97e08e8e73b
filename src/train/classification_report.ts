// What a person reads about a classifier beyond one number: the confusion matrix, a row per class
// (scikit-learn's classification_report), ROC-AUC for two classes, and calibration.
import { WhetError } from "../core/errors.js";
import { calibration, softmaxRows, topLabel, type Calibration } from "./calibration.js";
import { accuracy, confusionMatrix, perClassScores, precisionRecallF1, rankAverage } from "./metrics.js";

/**
 * Area under the ROC curve of binary references (0/1) and scores (sklearn.metrics.roc_auc_score):
 * the probability that a random positive scores above a random negative, ties counting one half
 * (the Mann–Whitney U statistic, equal to the trapezoidal area sklearn computes). NaN when only one
 * class is present, where sklearn raises.
 *
 * @example
 * rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]); // 0.75
 */
export function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  if (yTrue.length !== scores.length) throw new WhetError(`ROC-AUC: ${yTrue.length} references but ${scores.length} scores`);
  let pos = 0;
  for (let i = 0; i < yTrue.length; i++) {
    if (yTrue[i] !== 0
      && yTrue[i] !== 1) throw new WhetError(`ROC-AUC: reference ${i} is ${yTrue[i]}; binary ROC-AUC needs 0 or 1`);
    pos += yTrue[i];
  }
  const neg = yTrue.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  const ranks = rankAverage(scores);
  let rankSum = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === 1) rankSum += ranks[i];
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** One row of the per-class report. */
export interface ClassRow {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

/** scikit-learn's classification_report(output_dict=True), its rows in class-id order. */
export interface ClassificationReport {
  readonly classes: readonly ClassRow[];
  readonly accuracy: number;
  readonly macro_avg: Omit<ClassRow, "label">;
  readonly weighted_avg: Omit<ClassRow, "label">;
}

/**
 * The per-class report over classes 0..names.length-1 (every class listed, as sklearn does with
 * labels=range(k)); the averages run over the same classes.
 *
 * @example
 * const r = classificationReport([0, 1, 1, 0], [0, 1, 0, 0], ["neg", "pos"]);
 * r.classes[1]; // { label: "pos", precision: 1, recall: 0.5, f1: 0.667, support: 2 }; r.macro_avg, r.accuracy
 */
export function classificationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>,
  names: readonly string[]): ClassificationReport {
  const k = names.length;
  const per = perClassScores(yTrue, yPred, k);
  const classes = names.map((label, j) => ({ label, precision: per.precision[j], recall: per.recall[j], f1: per.f1[j],
    support: per.support[j] }));
  const avg = (average: "macro" | "weighted") => ({ ...precisionRecallF1(yTrue, yPred, { numLabels: k, average,
    labels: "all" }), support: yTrue.length });
  return { classes, accuracy: accuracy(yTrue, yPred), macro_avg: avg("macro"), weighted_avg: avg("weighted") };
}

/** The detailed evaluation of a single-label classifier (what `whet evaluate` adds to its JSON). */
export interface ClassifierDetails {
  readonly labels: readonly string[];
  /** Rows: reference class; columns: predicted class. */
  readonly confusion_matrix: number[][];
  readonly report: ClassificationReport;
  /** Two classes only: ROC-AUC of the probability of class 1. */
  readonly roc_auc?: number;
  readonly calibration: Calibration;
}

/**
 * Everything above from logits [rows, k] (row-major) and reference class ids.
 *
 * @example
 * const d = classifierDetails([2, -1, 0, 1, -1, 3], [0, 1, 0], ["neg", "pos"]);
 * d.confusion_matrix; // [[1, 1], [0, 1]]
 */
export function classifierDetails(
  logits: ArrayLike<number>, yTrue: ArrayLike<number>, names: readonly string[], opts: { numBins?: number } = {},
): ClassifierDetails {
  const k = names.length;
  if (k < 2) throw new WhetError(`classifier details: need at least 2 classes, got ${k}`);
  const probs = softmaxRows(logits, k);
  if (probs.length !== yTrue.length) throw new WhetError(`classifier details: ${probs.length} rows of logits but ${yTrue.length} labels`);
  const { pred, confidence } = topLabel(probs);
  const out: ClassifierDetails = {
    labels: names,
    confusion_matrix: confusionMatrix(yTrue, pred, k),
    report: classificationReport(yTrue, pred, names),
    calibration: calibration(confidence, pred.map((p, i) => p === yTrue[i]), opts.numBins),
  };
  return k === 2 ? { ...out, roc_auc: rocAuc(yTrue, probs.map((p) => p[1])) } : out;
}
