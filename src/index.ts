/**
 * whet's public API. A minimal fine-tuning run:
 *
 * @example
 * import { fromPretrained, loadTokenizer, resolveArguments, Trainer } from "whet";
 * const { model, dir } = await fromPretrained("prajjwal1/bert-mini", { task: "sequence-classification", labels: ["neg", "pos"] });
 * const tok = await loadTokenizer(dir);
 * const encode = async (text: string, label: number) => ({ ...(await tok.encode(text, null, { maxLength: 128 })), label });
 * const rows = await Promise.all([["great film", 1], ["dull plot", 0]].map(([t, l]) => encode(t as string, l as number)));
 * const train = rows.map((e) => ({ input_ids: e.ids, token_type_ids: e.typeIds, label: e.label }));
 * const args = resolveArguments({ output_dir: "runs/demo", num_train_epochs: 1, eval_strategy: "no" });
 * await new Trainer({ model, args, train, labels: "class", labelNames: ["neg", "pos"], padId: tok.padTokenId ?? 0, tokenizer: tok }).train();
 */
export { WhetError, ShapeError, NonFiniteError } from "./core/errors.js";
export type { NDArray } from "./core/ndarray.js";
export { Graph, trace } from "./graph/graph.js";
export { gradients } from "./graph/autodiff.js";
export type { Tensor } from "./graph/tensor.js";
export * as ops from "./ops/index.js";
export { CompiledGraph } from "./runtime/session.js";
export { evaluate as evaluateReference } from "./runtime/reference.js";
export { Module } from "./nn/module.js";
export { Parameter } from "./nn/parameter.js";
export { TrainStep } from "./optim/train_step.js";
export { learningRate } from "./optim/schedule.js";
export { readConfig, type PretrainedConfig } from "./io/config.js";
export { resolveModel } from "./io/hub.js";
export { readSafetensorsFile, writeSafetensorsFile, readSafetensors, writeSafetensors } from "./io/safetensors.js";
export { loadTokenizer, Tokenizer } from "./tokenizers/index.js";
export { createModel, FAMILIES, type Task, type TaskModel } from "./models/auto.js";
export { fromPretrained, loadPretrainedWeights } from "./models/pretrained.js";
export { saveModel } from "./models/save.js";
export { ForwardRunner } from "./models/forward.js";
export { readTable } from "./data/read.js";
export { LabelMap } from "./data/labels.js";
export { Trainer } from "./train/trainer.js";
export { resolveArguments, TrainingArgumentsSchema, type TrainingArguments } from "./train/arguments.js";
export { Evaluator } from "./train/evaluator.js";
export { computeMetrics } from "./train/metrics.js";
export { trainWordPiece } from "./tokenizers/train_wordpiece.js";
export { maskTokens, mlmTransform, encodeForMlm } from "./train/mlm.js";
export { teacherLogits } from "./train/distill.js";
export { exportOnnx, validateExport } from "./export/onnx_export.js";
export { quantizeDynamicInt8, encodeQuantized } from "./compress/quantize.js";
export { runPretrain, type PretrainSpec, type PretrainResult } from "./cli/pretrain.js";
export { shrinkTeacher } from "./cli/distill.js";
// Hyperparameter search in Optuna's storage (src/hpo).
export { createStudy, loadStudy, type CreateStudyOptions } from "./hpo/study_api.js";
export { Study, type OptimizeOptions } from "./hpo/study.js";
export { Trial, TrialPruned } from "./hpo/trial.js";
export { openStorage } from "./hpo/storage_url.js";
export { TpeSampler } from "./hpo/tpe_sampler.js";
export { RandomSampler } from "./hpo/random_sampler.js";
export { GridSampler } from "./hpo/grid_sampler.js";
export { MedianPruner, PercentilePruner, SuccessiveHalvingPruner, HyperbandPruner, NopPruner } from "./hpo/pruners.js";
export { parameterImportances } from "./hpo/importance.js";
