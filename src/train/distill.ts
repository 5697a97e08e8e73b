import type { NDArray } from "../core/ndarray.js";
import type { Tensor } from "../graph/tensor.js";
import { div, mul, sub } from "../ops/elementwise.js";
import { mean, sum } from "../ops/reduce.js";
import { logSoftmax, softmax } from "../ops/softmax.js";
import type { TaskModel } from "../models/auto.js";
import { ForwardRunner } from "../models/forward.js";
import { FAMILIES } from "../models/auto.js";
import { collate, type Example } from "./collate.js";

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
 * The teacher's logits for every example, computed once (eval mode, in order) and kept with the
 * examples, so distillation costs one teacher pass in all rather than one per epoch.
 */
export async function teacherLogits(teacher: TaskModel, examples: readonly Example[], padId: number, batchSize = 64, threads?: number): Promise<Float32Array[]> {
  const tokenTypes = FAMILIES[teacher.config.model_type].tokenTypes;
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
