import { WhetError } from "../core/errors.js";
import { mulDims } from "../core/shape.js";
import type { Tensor } from "../graph/tensor.js";
import type { ProblemType } from "../io/config.js";
import type { Embedding } from "../nn/embedding.js";
import { LayerNorm } from "../nn/layer_norm.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import type { Parameter } from "../nn/parameter.js";
import { gelu } from "../ops/activation.js";
import { add, cast } from "../ops/elementwise.js";
import { embedding } from "../ops/gather.js";
import { reshape } from "../ops/layout.js";
import { bceWithLogits, crossEntropy, mse } from "../ops/loss.js";
import { matmul } from "../ops/matmul.js";

/** What every task model returns, so the Trainer never asks which model it runs. */
export interface ModelOutput {
  logits: Tensor;
  loss?: Tensor;
  lastHiddenState: Tensor;
}

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

/** Cross-entropy over the last axis with -100 marking positions that do not count (NER, MLM). */
export function tokenClassificationLoss(logits: Tensor, labels: Tensor): Tensor {
  if (labels.dtype !== "int64") throw new WhetError(`token classification needs int64 labels, got ${labels.dtype}`);
  return crossEntropy(logits, labels, { ignoreIndex: -100 });
}

/**
 * The hidden states at `positions` (flat indices b·T + t into [B, T]) as rows [n, H], or all of
 * them when no positions are given. Masked-LM training predicts only the ~15% masked tokens:
 * projecting just those rows onto the vocabulary skips most of the head's work (the [B, T, V]
 * logits, their softmax and its gradient), with the same loss and gradients.
 */
export function rowsAt(h: Tensor, positions: Tensor | undefined): Tensor {
  if (!positions) return h;
  const [B, T, H] = h.shape;
  return embedding(reshape(h, [mulDims([B, T]), H]), positions); // [B, T, H] -> [B*T, H] -> [n, H]
}

/**
 * The masked-LM head shared by BERT and RoBERTa: dense, GELU, LayerNorm, then a decoder whose
 * weight IS the word-embedding matrix (tied, stored once) plus its own bias. Checkpoint names
 * differ per family, so the caller picks them.
 */
export class LMPredictionHead extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly bias: Parameter;

  constructor(hidden: number, eps: number, std: number, readonly wordEmbeddings: Embedding, naming: "bert" | "roberta") {
    super();
    // BERT: cls.predictions.transform.{dense,LayerNorm} and cls.predictions.bias;
    // RoBERTa: lm_head.{dense,layer_norm} and lm_head.bias.
    if (naming === "bert") {
      const transform = this.add("transform", new MlmTransform(hidden, eps, std));
      this.dense = transform.dense;
      this.norm = transform.LayerNorm;
    } else {
      this.dense = this.add("dense", new Linear(hidden, hidden, { std }));
      this.norm = this.add("layer_norm", new LayerNorm(hidden, eps));
    }
    this.bias = this.param("bias", [wordEmbeddings.num], { kind: "zeros" }, true);
  }

  forward(h: Tensor): Tensor {
    return this.scope(() => {
      const t = this.norm.forward(gelu(this.dense.forward(h)));
      return add(matmul(t, this.wordEmbeddings.weight.t(), false, true), this.bias.t()); // [B, T, H] @ [V, H]ᵀ
    });
  }
}

class MlmTransform extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;

  constructor(hidden: number, eps: number, std: number) {
    super();
    this.dense = this.add("dense", new Linear(hidden, hidden, { std }));
    this.LayerNorm = this.add("LayerNorm", new LayerNorm(hidden, eps));
  }
}
