/**
 * Prediction over a whole dataset, as transformers' `Trainer.predict` / `evaluate` give it: the
 * logits stacked into one array, the labels beside them, and metrics under a key prefix ("eval",
 * "test") with the run time. Labelled examples run the evaluation graph (loss and metrics);
 * unlabelled ones the plain forward (logits only).
 *
 * @example
 * const out = await runPrediction(examples, { model, labels: "class", padId: 0, batchSize: 64, prefix: "test" });
 * out.predictions.shape; // [examples.length, numLabels]
 * out.metrics.test_accuracy;
 */
import { WhetError } from "../core/errors.js";
import { ndarray, type NDArray } from "../core/ndarray.js";
import { maxOf } from "../core/iter.js";
import { familyOf } from "../models/auto.js";
import { ForwardRunner } from "../models/forward.js";
import { collate, type Example, type LabelKind } from "../data/collate.js";
import { Evaluator, type EvalPrediction, type EvaluatorOptions } from "./evaluator.js";

/** A float32 array with its data typed as such (logits). */
export type Float32NDArray = NDArray & { readonly dtype: "float32"; readonly data: Float32Array };

/** transformers' PredictionOutput, under its field names. */
export interface PredictionOutput {
  /**
   * The logits: [N, labels] for sequence tasks; [N, T, labels] for token tasks, each row padded
   * with -100 to the longest example (as transformers pads across batches); masked-LM: the
   * predicted id at each labelled position, [N, M] padded with -100.
   */
  predictions: Float32NDArray;
  /**
   * The examples' labels: int64 [N] (classes), float32 [N] (regression) or [N, labels]
   * (multi-label), int64 [N, T] padded with -100 (token tasks; masked-LM: the labelled ids,
   * [N, M]); null when the examples carry no labels.
   */
  label_ids: NDArray | null;
  /** `<prefix>_loss` and the task's metrics (with labels), `<prefix>_runtime`, `<prefix>_samples_per_second`, `<prefix>_steps_per_second`. */
  metrics: Record<string, number>;
}

export interface PredictionOptions extends Omit<EvaluatorOptions, "examples"> {
  /** The metric key prefix: "eval" for evaluate, "test" for predict. */
  prefix: string;
}

/** Run the model over `examples` in order (see the module comment). */
export async function runPrediction(examples: readonly Example[], o: PredictionOptions): Promise<PredictionOutput> {
  const what = o.prefix === "eval" ? "evaluate" : "predict";
  if (examples.length === 0) throw new WhetError(`${what}: the dataset is empty`);
  const unlabelled = examples.filter((e) => e.label === undefined).length;
  if (unlabelled > 0 && unlabelled < examples.length) {
    const first = examples.findIndex((e) => e.label === undefined);
    throw new WhetError(`${what}: ${unlabelled} of ${examples.length} examples have no label (the first is example ${first}): ` +
      `give every example a label, or none`);
  }
  if (unlabelled > 0 && what === "evaluate") throw new WhetError("evaluate: the examples have no labels; use predict for logits alone");
  const started = performance.now();
  const out = unlabelled > 0 ? await logitsOnly(examples, o) : await labelled(examples, o);
  const seconds = (performance.now() - started) / 1000;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(out.metrics)) metrics[k.startsWith(`${o.prefix}_`) ? k : `${o.prefix}_${k}`] = v;
  // Rounded as transformers' speed_metrics rounds them.
  metrics[`${o.prefix}_runtime`] = round(seconds, 4);
  metrics[`${o.prefix}_samples_per_second`] = round(examples.length / seconds, 3);
  metrics[`${o.prefix}_steps_per_second`] = round(Math.ceil(examples.length / o.batchSize) / seconds, 3);
  return { ...out, metrics };
}

async function labelled(examples: readonly Example[], o: PredictionOptions): Promise<PredictionOutput> {
  const evaluator = await Evaluator.create({ ...o, examples });
  try {
    const { loss, prediction } = await evaluator.predict();
    return {
      predictions: stackPredictions(prediction),
      label_ids: stackLabels(prediction.labels, o.labels, prediction.numLabels),
      metrics: evaluator.metrics(loss, prediction),
    };
  } finally {
    await evaluator.release();
  }
}

async function logitsOnly(examples: readonly Example[], o: PredictionOptions): Promise<PredictionOutput> {
  if (o.labels === "masked_token") {
    throw new WhetError("predict: masked-LM predictions are made at labelled positions; give each example its labels (-100 elsewhere)");
  }
  const tokenTypes = familyOf(o.model.config).tokenTypes;
  const runner = await ForwardRunner.compile(o.model, { tokenTypes, threads: o.threads });
  try {
    const rows: Float32Array[] = [];
    let C = 0;
    for (let i = 0; i < examples.length; i += o.batchSize) {
      const chunk = examples.slice(i, i + o.batchSize).map((e) => ({ input_ids: e.input_ids, token_type_ids: e.token_type_ids }));
      const logits = (await runner.run(collate(chunk, { padId: o.padId, tokenTypes, labels: null }).feeds)).logits;
      C = logits.shape[logits.shape.length - 1];
      const data = logits.data as Float32Array, rowSize = data.length / chunk.length;
      // Token tasks keep only the example's own tokens, not the batch padding.
      chunk.forEach((e, r) => rows.push(data.slice(r * rowSize, r * rowSize + (o.labels === "token" ? e.input_ids.length * C : rowSize))));
    }
    const prediction: EvalPrediction = { logits: rows, labels: [], kind: o.labels, numLabels: C };
    return { predictions: stackPredictions(prediction), label_ids: null, metrics: {} };
  } finally {
    await runner.release();
  }
}

/** The rows of an EvalPrediction as one array (see PredictionOutput.predictions). */
function stackPredictions(p: EvalPrediction): Float32NDArray {
  const N = p.logits.length;
  const rows = p.logits.map((r) => Array.from(r));
  if (p.kind === "token") return padRows(rows, p.numLabels, "float32", [N]) as Float32NDArray;
  if (p.kind === "masked_token") return padRows(rows, 1, "float32", [N]) as Float32NDArray;
  const data = new Float32Array(N * p.numLabels);
  p.logits.forEach((r, i) => data.set(r.subarray(0, p.numLabels), i * p.numLabels));
  return { dtype: "float32", shape: [N, p.numLabels], data };
}

function stackLabels(labels: EvalPrediction["labels"], kind: LabelKind, C: number): NDArray {
  const N = labels.length;
  const list = labels.map((l) => (typeof l === "number" ? [l] : [...l]));
  switch (kind) {
    case "class": return ndarray("int64", [N], list.flat());
    case "regression": return ndarray("float32", [N], list.flat());
    case "multi_label": return ndarray("float32", [N, C], list.flat());
    case "token": return padRows(list, 1, "int64", [N]);
    case "masked_token": return padRows(list.map((l) => l.filter((v) => v !== -100)), 1, "int64", [N]);
  }
}

/** Rows of `width`-sized items, padded with -100 to the longest: [N, T] (width 1) or [N, T, width]. */
function padRows(rows: number[][], width: number, dtype: "float32" | "int64", lead: number[]): NDArray {
  const T = maxOf(rows.map((r) => r.length / width), 0);
  const values = new Array<number>(rows.length * T * width).fill(-100);
  rows.forEach((r, i) => r.forEach((v, j) => (values[i * T * width + j] = v)));
  return ndarray(dtype, width === 1 ? [...lead, T] : [...lead, T, width], values);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
