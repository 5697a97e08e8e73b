import type { Tensor } from "../graph/tensor.js";
import type { ModelOutput } from "../models/heads.js";
import type { InputDecl } from "../optim/train_step.js";
import type { Example, LabelKind } from "../data/collate.js";

/**
 * A training loss beyond the task's own, plugged into the Trainer (distillation's teacher term;
 * R-Drop or a regulariser could be others). It may read extra graph inputs that `collate` feeds
 * from each example, and it combines them with the model's output and the task loss into the
 * loss the optimizer minimises. Evaluation keeps the task loss alone.
 *
 * @example
 * const trainer = new Trainer({ ...options, loss: distillation({ alpha: 0.5, temperature: 2 }) });
 */
export interface LossPlugin {
  /** Extra graph inputs, fed by `collate` under the same names (e.g. teacher_logits). */
  inputs(o: { numLabels: number }): InputDecl[];
  /** Checked before any work: the training set carries what this loss reads. */
  check?(o: { train: readonly Example[]; labels: LabelKind }): void;
  /** The loss to minimise, from the task loss, the model's output and the batch's graph inputs. */
  combine(taskLoss: Tensor, out: ModelOutput, inputs: Readonly<Record<string, Tensor>>): Tensor;
}
