import type { NDArray } from "../core/ndarray.js";
import { Graph, trace } from "../graph/graph.js";
import { numLabels } from "../io/config.js";
import { familyOf, type TaskModel } from "../models/auto.js";
import { CompiledGraph } from "../runtime/session.js";
import { batchInputs, collate, type Example, type LabelKind } from "../data/collate.js";
import { computeMetrics, type MetricsTask } from "./metrics.js";
import { taskLoss } from "./task_loss.js";
import { appendAll, maxOf } from "../core/iter.js";

/** Predictions of a whole evaluation set: logits row by row, labels as given. */
export interface EvalPrediction {
  /**
   * [rows, labels] for sequence tasks; [rows][tokens, labels] flattened per row for token tasks;
   * masked_token: the predicted id at each of the row's labelled positions (full-vocabulary
   * logits are not kept: a held-out set would need gigabytes).
   */
  logits: Float32Array[];
  labels: (number | readonly number[])[];
  kind: LabelKind;
  numLabels: number;
}

export type MetricsFn = (p: EvalPrediction) => Record<string, number>;

export interface EvaluatorOptions {
  model: TaskModel;
  examples: readonly Example[];
  labels: LabelKind;
  padId: number;
  batchSize: number;
  threads?: number;
  computeMetrics?: MetricsFn;
  classWeights?: number[];
  labelSmoothing?: number;
}

/**
 * Evaluation: the eval-mode forward compiled once, run over the set in order. The loss is the
 * mean over examples (or counted tokens) of the whole set, not a mean of batch means.
 *
 * @example
 * const ev = await Evaluator.create({ model, examples: evalSet, labels: "class", padId: 0, batchSize: 64 });
 * const metrics = await ev.evaluate(); // { loss, accuracy, f1, … }: Trainer.evaluate() adds the eval_ prefix
 * await ev.release();
 */
export class Evaluator {
  private constructor(private readonly o: EvaluatorOptions, private readonly compiled: CompiledGraph) {}

  static async create(o: EvaluatorOptions): Promise<Evaluator> {
    const g = new Graph();
    const types = familyOf(o.model.config).tokenTypes;
    const outs = trace(g, () => {
      const x = Object.fromEntries(batchInputs({ tokenTypes: types, labels: o.labels, numLabels: numLabels(o.model.config) }).map((d) => [d.name, g.input(d.name, d.shape, d.dtype)]));
      const out = o.model.forward({ input_ids: x.input_ids, attention_mask: x.attention_mask, token_type_ids: x.token_type_ids, masked_positions: x.masked_positions });
      const labels = x.labels;
      return { logits: out.logits, loss: taskLoss(out.logits, labels, o.labels, { classWeights: o.classWeights, labelSmoothing: o.labelSmoothing }) };
    });
    return new Evaluator(o, await CompiledGraph.compile(g, outs, { threads: o.threads, name: "evaluate" }));
  }

  async predict(): Promise<{ loss: number; prediction: EvalPrediction }> {
    const o = this.o;
    const types = familyOf(o.model.config).tokenTypes;
    const params: Record<string, NDArray> = {};
    for (const [k, p] of o.model.namedParameters()) params[k] = { dtype: "float32", shape: [...p.shape], data: p.data };
    let lossSum = 0, count = 0;
    const logits: Float32Array[] = [];
    let numLabels = 0;
    for (let i = 0; i < o.examples.length; i += o.batchSize) {
      const chunk = o.examples.slice(i, i + o.batchSize);
      const b = collate(chunk, { padId: o.padId, tokenTypes: types, labels: o.labels });
      const out = await this.compiled.run({ ...b.feeds, ...params });
      if (b.count > 0) {
        lossSum += Number(out.loss.data[0]) * b.count;
        count += b.count;
      }
      const lg = out.logits.data as Float32Array;
      if (o.labels === "masked_token") {
        numLabels = 1;
        appendAll(logits, argmaxPerExample(lg, Number(out.logits.shape[1]), chunk));
        continue;
      }
      numLabels = out.logits.shape[out.logits.shape.length - 1];
      const rowSize = lg.length / chunk.length;
      chunk.forEach((e, r) => {
        // Token tasks keep only the example's own tokens, not the batch padding.
        const keep = o.labels === "token" ? e.input_ids.length * numLabels : rowSize;
        logits.push(lg.slice(r * rowSize, r * rowSize + keep));
      });
    }
    return { loss: count > 0 ? lossSum / count : NaN, prediction: { logits, labels: o.examples.map((e) => e.label!), kind: o.labels, numLabels } };
  }

  async evaluate(): Promise<Record<string, number>> {
    const { loss, prediction } = await this.predict();
    return this.metrics(loss, prediction);
  }

  /** The loss (and perplexity for masked-LM) followed by computeMetrics' (or the task's standard) metrics. */
  metrics(loss: number, prediction: EvalPrediction): Record<string, number> {
    const id2label = this.o.model.config.id2label;
    const metrics = (this.o.computeMetrics ?? ((p: EvalPrediction) => standardMetrics(p, id2label)))(prediction);
    return this.o.labels === "masked_token" ? { loss, perplexity: Math.exp(loss), ...metrics } : { loss, ...metrics };
  }

  async release(): Promise<void> {
    await this.compiled.release();
  }
}

/** The predicted id at each labelled position, example by example (rows of `lg` [n, V] in batch order). */
function argmaxPerExample(lg: Float32Array, V: number, chunk: readonly Example[]): Float32Array[] {
  let row = 0;
  return chunk.map((e) => {
    const n = (e.label as number[]).filter((v) => v !== -100).length;
    const ids = new Float32Array(n);
    for (let k = 0; k < n; k++, row++) {
      let best = 0;
      for (let v = 1; v < V; v++) if (lg[row * V + v] > lg[row * V + best]) best = v;
      ids[k] = best;
    }
    return ids;
  });
}

const TASK_OF: Record<Exclude<LabelKind, "masked_token">, MetricsTask> = {
  class: "single_label_classification",
  regression: "regression",
  multi_label: "multi_label_classification",
  token: "token_classification",
};

/**
 * The metrics of `computeMetrics` for the task: accuracy, precision / recall / F1 (binary for two
 * classes, else macro; every average by name), MCC; regression errors and correlations;
 * multi-label F1; entity-level F1 for token classification (seqeval, with the label names).
 */
export function standardMetrics(p: EvalPrediction, id2label?: Record<string, string>): Record<string, number> {
  const C = p.numLabels, N = p.logits.length;
  if (p.kind === "masked_token") {
    // Masked-LM: the share of masked tokens predicted exactly.
    let right = 0, total = 0;
    p.logits.forEach((ids, i) => {
      const want = (p.labels[i] as number[]).filter((v) => v !== -100);
      want.forEach((y, k) => (right += Number(ids[k] === y)));
      total += want.length;
    });
    return { accuracy: total ? right / total : NaN };
  }
  if (p.kind !== "token") {
    const logits = new Float32Array(N * C);
    p.logits.forEach((l, i) => logits.set(l.subarray(0, C), i * C));
    const labels = p.kind === "multi_label" ? Float64Array.from(p.labels.flatMap((l) => [...(l as number[])])) : Float64Array.from(p.labels as number[]);
    const labelShape = p.kind === "multi_label" ? [N, C] : [N];
    return computeMetrics(TASK_OF[p.kind], { dtype: "float32", shape: [N, C], data: logits }, { dtype: "float64", shape: labelShape, data: labels }, { id2label });
  }
  // Token tasks: rows have their own lengths; pad to the longest, labels with -100 (skipped).
  const T = maxOf(p.logits.map((l) => l.length / C), 1);
  const logits = new Float32Array(N * T * C), labels = new Float64Array(N * T).fill(-100);
  p.logits.forEach((l, i) => {
    logits.set(l, i * T * C);
    (p.labels[i] as number[]).forEach((y, t) => t < T && (labels[i * T + t] = y));
  });
  return computeMetrics("token_classification", { dtype: "float32", shape: [N, T, C], data: logits }, { dtype: "float64", shape: [N, T], data: labels }, { id2label });
}
