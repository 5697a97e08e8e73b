import { WhetError } from "../core/errors.js";
import type { Tensor } from "../graph/tensor.js";
import { cast } from "../ops/elementwise.js";
import { reshape } from "../ops/layout.js";
import { bceWithLogits, crossEntropy, mse } from "../ops/loss.js";

export type ProblemType = "regression" | "single_label_classification" | "multi_label_classification";

/**
 * The loss transformers' *ForSequenceClassification picks: regression for one label, cross-entropy
 * for integer labels, BCE with logits for float multi-hot labels — unless problem_type says.
 */
export function sequenceClassificationLoss(logits: Tensor, labels: Tensor, numLabels: number, problem?: ProblemType): Tensor {
  const kind: ProblemType = problem ?? (numLabels === 1 ? "regression" : labels.dtype === "int64" ? "single_label_classification" : "multi_label_classification");
  switch (kind) {
    case "regression":
      return numLabels === 1 ? mse(reshape(logits, [logits.shape[0]]), cast(labels, logits.dtype)) : mse(logits, cast(labels, logits.dtype));
    case "single_label_classification":
      if (labels.dtype !== "int64") throw new WhetError(`single-label classification needs int64 labels, got ${labels.dtype}`);
      return crossEntropy(logits, labels);
    case "multi_label_classification":
      return bceWithLogits(logits, cast(labels, logits.dtype));
  }
}
