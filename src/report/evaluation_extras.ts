// What `whet evaluate` adds to its metrics for a single-label classifier: the confusion matrix,
// per-class rows, ROC-AUC (two classes), calibration, and per-group metrics when asked.
import { WhetError } from "../core/errors.js";
import { classifierDetails } from "../train/classification_report.js";
import type { EvalPrediction } from "../train/evaluator.js";
import { metricFrame, standardGroupMetrics, type MetricFrameResult } from "../train/metric_frame.js";
import { topLabel, softmaxRows } from "../train/calibration.js";

export interface EvaluationExtras {
  readonly labels: readonly string[];
  readonly confusion_matrix: number[][];
  readonly per_class: readonly { label: string; precision: number; recall: number; f1: number; support: number }[];
  readonly macro_avg: { precision: number; recall: number; f1: number; support: number };
  readonly weighted_avg: { precision: number; recall: number; f1: number; support: number };
  readonly roc_auc?: number;
  readonly ece: number;
  readonly reliability: readonly { lower: number; upper: number; count: number; accuracy: number | null; confidence: number | null }[];
  readonly groups?: MetricFrameResult & { column: string };
}

/**
 * The extras of a single-label prediction; `groups` (one value per row) adds per-group metrics.
 * Returns the warnings too (tiny groups), for the command to print.
 */
export function evaluationExtras(
  p: EvalPrediction, labelNames: readonly string[],
  groups?: { column: string; values: readonly string[]; nBoot?: number; seed?: number },
): { extras: EvaluationExtras; warnings: string[] } {
  if (p.kind !== "class") throw new WhetError(`evaluation details need a single-label classifier, not ${p.kind}`);
  const k = p.numLabels, names = labelNames.length === k ? labelNames : Array.from({ length: k }, (_, i) => String(i));
  const logits = p.logits.flatMap((row) => Array.from(row.subarray(0, k)));
  const labels = p.labels as number[];
  const d = classifierDetails(logits, labels, names);
  const extras: EvaluationExtras = {
    labels: names, confusion_matrix: d.confusion_matrix, per_class: d.report.classes,
    macro_avg: d.report.macro_avg, weighted_avg: d.report.weighted_avg,
    ...(d.roc_auc !== undefined ? { roc_auc: d.roc_auc } : {}),
    ece: d.calibration.ece, reliability: d.calibration.bins,
  };
  if (!groups) return { extras, warnings: [] };
  const pred = topLabel(softmaxRows(logits, k)).pred;
  const frame = metricFrame(standardGroupMetrics("class", k), labels, pred, groups.values, { nBoot: groups.nBoot,
    seed: groups.seed });
  const warnings = frame.small_groups.map((g) => {
    const n = frame.groups.find((x) => x.name === g)!.count;
    return `--group-column ${groups.column}: group "${g}" has only ${n} row${n === 1 ? "" : "s"}; reported, but its metrics say little`;
  });
  return { extras: { ...extras, groups: { column: groups.column, ...frame } }, warnings };
}
