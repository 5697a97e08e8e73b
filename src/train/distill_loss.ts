import type { NDArray } from "../core/ndarray.js";
import type { Tensor } from "../graph/tensor.js";
import { WhetError } from "../core/errors.js";
import { add, div, mul, sub } from "../ops/elementwise.js";
import { mean, sum } from "../ops/reduce.js";
import { logSoftmax, softmax } from "../ops/softmax.js";
import type { TaskModel } from "../models/auto.js";
import { ForwardRunner } from "../models/forward.js";
import { familyOf } from "../models/auto.js";
import { collate, type Example } from "../data/collate.js";
import type { LossPlugin } from "./loss_plugin.js";

export interface DistillOptions {
  /** Weight of the distillation term; the label loss gets 1 - alpha. */
  alpha: number;
  /** Softening temperature of both distributions. */
  temperature: number;
}

/**
 * Hinton et al.'s distillation term: KL(softmax(t/T) ‖ softmax(s/T)) averaged over the batch
 * (torch's KLDivLoss reduction "batchmean"), times T² so its gradients keep their scale as T grows.
 * The teacher's logits arrive as an input: no gradient flows into them.
 */
export function distillationLoss(student: Tensor, teacher: Tensor, temperature: number): Tensor {
  const T = temperature;
  const logP = logSoftmax(div(student, T), -1); // [B, C]
  const q = softmax(div(teacher, T), -1);
  const logQ = logSoftmax(div(teacher, T), -1);
  const kl = sum(mul(q, sub(logQ, logP)), [-1]); // [B]
  return mul(mean(kl), T * T);
}

/**
 * Knowledge distillation as the Trainer's loss: (1 − alpha) · the task loss + alpha · the
 * T²-scaled KL to the teacher's softened distribution. Every training example carries its
 * teacher's logits (`Example.teacher`, see teacherLogits), fed as the graph input teacher_logits.
 *
 * @example
 * const teacherOut = await teacherLogits(teacher, train, padId);
 * const withTeacher = train.map((e, i) => ({ ...e, teacher: teacherOut[i] }));
 * await new Trainer({ ...options, train: withTeacher, loss: distillation({ alpha: 0.5, temperature: 2 }) }).train();
 */
export function distillation(o: DistillOptions): LossPlugin {
  const { alpha, temperature } = o;
  if (!(alpha >= 0 && alpha <= 1)) throw new WhetError(`distillation: alpha must be in [0, 1], got ${alpha}`);
  if (!(temperature > 0)) throw new WhetError(`distillation: temperature must be positive, got ${temperature}`);
  return {
    inputs: ({ numLabels }) => [{ name: "teacher_logits", shape: ["batch", numLabels], dtype: "float32" }],
    check({ train, labels }) {
      if (labels !== "class") throw new WhetError("distillation: only single-label sequence classification is supported so far");
      if (train.some((e) => !e.teacher)) throw new WhetError("distillation: every training example needs its teacher's logits (see teacherLogits())");
    },
    combine: (hard, out, x) => add(mul(hard, 1 - alpha), mul(distillationLoss(out.logits, x.teacher_logits, temperature), alpha)),
  };
}

/**
 * The teacher's logits for every example, computed once (eval mode, in order) and kept with the
 * examples, so distillation costs one teacher pass in all rather than one per epoch.
 *
 * @example
 * const logits = await teacherLogits(teacher, train, tokenizer.padTokenId ?? 0);
 * train.forEach((e, i) => (e.teacher = logits[i]));
 * // then new Trainer({ …, loss: distillation({ alpha: 0.5, temperature: 2 }) })
 */
export async function teacherLogits(teacher: TaskModel, examples: readonly Example[], padId: number, batchSize = 64, threads?: number): Promise<Float32Array[]> {
  const tokenTypes = familyOf(teacher.config).tokenTypes;
  const runner = await ForwardRunner.compile(teacher, { tokenTypes, outputs: ["logits"], threads });
  const out: Float32Array[] = [];
  try {
    for (let i = 0; i < examples.length; i += batchSize) {
      const chunk = examples.slice(i, i + batchSize);
      const b = collate(chunk, { padId, tokenTypes, labels: null });
      const r: Record<string, NDArray> = await runner.run(b.feeds);
      const lg = r.logits.data as Float32Array;
      const C = r.logits.shape[1];
      chunk.forEach((_, k) => out.push(lg.slice(k * C, (k + 1) * C)));
    }
  } finally {
    await runner.release();
  }
  return out;
}
