import { ndarray } from "../core/ndarray.js";
import type { Tensor } from "../graph/tensor.js";
import { cast } from "../ops/elementwise.js";
import { reshape } from "../ops/layout.js";
import { bceWithLogits, crossEntropy, mse } from "../ops/loss.js";
import type { LabelKind } from "../data/collate.js";

export interface TaskLossOptions {
  /** Per-class weights (single-label and token classification). */
  classWeights?: readonly number[];
  labelSmoothing?: number;
}

/**
 * The training loss the Trainer attaches to a model's logits: what the model's own loss computes,
 * plus class weights and label smoothing, which transformers' models cannot take.
 */
export function taskLoss(logits: Tensor, labels: Tensor, kind: LabelKind, o: TaskLossOptions = {}): Tensor {
  const weight = o.classWeights ? logits.graph.constant(ndarray(logits.dtype, [o.classWeights.length], o.classWeights)) : undefined;
  switch (kind) {
    case "class":
    case "token":
    case "masked_token":
      return crossEntropy(logits, labels, { ignoreIndex: -100, weight, labelSmoothing: o.labelSmoothing ?? 0 });
    case "regression":
      return mse(reshape(logits, [logits.shape[0]]), cast(labels, logits.dtype));
    case "multi_label":
      return bceWithLogits(logits, cast(labels, logits.dtype));
  }
}

/** "balanced" class weights as scikit-learn computes them: n / (k · count_c). */
export function balancedClassWeights(labels: readonly number[], k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const l of labels) if (l >= 0 && l < k) counts[l]++;
  return counts.map((c) => (c === 0 ? 1 : labels.length / (k * c)));
}
