/**
 * whetml's public API: load a model and its tokenizer, read data, fine-tune with the Trainer (and
 * its callbacks) or a recipe, evaluate, export. The engine (graphs, ops, autodiff, sessions) is
 * the separate entry `whetml/engine`.
 *
 * @example
 * import { finetune, resolveRunSpec } from "whetml";
 * const result = await finetune(resolveRunSpec({ model: "prajjwal1/bert-mini", train_file: "reviews.csv", output_dir: "runs/reviews" }));
 * console.log(result.metrics.accuracy);
 *
 * @example
 * import { fromPretrained, loadTokenizer, resolveArguments, Trainer } from "whetml";
 * const { model, dir } = await fromPretrained("prajjwal1/bert-mini", { task: "sequence-classification", labels: ["neg", "pos"] });
 * const tok = await loadTokenizer(dir);
 * const encode = async (text: string, label: number) => {
 *   const e = await tok.encode(text, null, { maxLength: 128 });
 *   return { input_ids: e.inputIds, token_type_ids: e.tokenTypeIds, label };
 * };
 * const train = [await encode("great film", 1), await encode("dull plot", 0)];
 * const args = resolveArguments({ output_dir: "runs/demo", num_train_epochs: 1, eval_strategy: "no" });
 * const trainer = new Trainer({ model, args, train, labels: "class", labelNames: ["neg", "pos"], tokenizer: tok });
 * await trainer.train();
 * const { predictions, metrics } = await trainer.predict(train); // logits [2, 2], test_loss, test_accuracy…
 *
 * The README's "Use it from TypeScript" section is a complete, tested program.
 */
export { WhetError, ShapeError, NonFiniteError, UsageError } from "./core/errors.js";
export type { NDArray } from "./core/ndarray.js";
// Models, tokenizers, files
export { readConfig, type PretrainedConfig } from "./io/config.js";
export { resolveModel } from "./io/hub.js";
export { readSafetensorsFile, writeSafetensorsFile, readSafetensors, writeSafetensors } from "./io/safetensors.js";
export { loadTokenizer, Tokenizer, type BatchEncoding, type Encoding } from "./tokenizers/index.js";
export { trainWordPiece } from "./tokenizers/train_wordpiece.js";
export { createModel, FAMILIES, familyOf, maxSequenceLength, type ModelFamily, type ModelPart, type Task, type TaskModel } from "./models/auto.js";
export { fromPretrained, loadPretrainedWeights } from "./models/pretrained.js";
export { saveModel } from "./models/save.js";
export { shrinkTeacher } from "./models/shrink.js";
export { ForwardRunner } from "./models/forward.js";
// Data
export { readTable, type TextRow } from "./data/read.js";
export { readConll, type TokenRow } from "./data/conll.js";
export { alignLabels, LabelMap } from "./data/labels.js";
export { encodeRows, labelKind, type Example, type LabelKind } from "./data/examples.js";
export { encodeTokenRows } from "./data/token_examples.js";
export { collate } from "./data/collate.js";
export { prepareData, type BeforeEncode, type DataSource, type PreparedData, type TrainRows } from "./data/prepare.js";
export { buildReport, formatReport } from "./data/report.js";
export { stratifiedSplit } from "./data/split.js";
export { streamPredictInput, type PredictInput, type PredictInputOptions } from "./data/predict_input.js";
export {
  aggregateEntities, scoredTokens, AGGREGATION_STRATEGIES, type AggregationStrategy, type EntityGroup, type TokenEntity,
} from "./data/token_entities.js";
// Training
export { Trainer, type TrainerOptions, type TrainResult } from "./train/trainer.js";
export type { Float32NDArray, PredictionOutput } from "./train/prediction.js";
export type { TrainerCallback, TrainerControl, TrainerState } from "./train/callbacks.js";
export { EarlyStoppingCallback } from "./train/early_stopping.js";
export { ConsoleLogCallback, JsonlLogCallback, RunRecordCallback } from "./train/log_callbacks.js";
export { ProgressCallback } from "./train/progress_line.js";
export type { LossPlugin } from "./train/loss_plugin.js";
export { resolveArguments, TrainingArgumentsSchema, type TrainingArguments } from "./train/arguments.js";
export { planParamGroups, matchParameters, modelLayout, type ParamGroupPlan, type NamedParamGroup } from "./train/param_groups.js";
export { UnfreezingPlan, GradualUnfreezingCallback } from "./train/unfreezing.js";
export { FineTuning } from "./train/fine_tuning.js";
export { Evaluator } from "./train/evaluator.js";
export { computeMetrics } from "./train/metrics.js";
export { maskTokens, mlmTransform, encodeForMlm } from "./train/mlm.js";
export { distillation, teacherLogits } from "./train/distill_loss.js";
// Recipes
export { finetune, type FinetuneOptions, type RecipeOptions, type RunResult } from "./recipes/finetune.js";
export { pretrain, runPretrain, type PretrainSpec, type PretrainResult } from "./recipes/pretraining.js";
export { distill, type DistillSpec, type DistillResult } from "./recipes/distillation.js";
export { resolveRunSpec, DataKeysSchema, type RunSpec } from "./recipes/run_spec.js";
export { predictFile, type PredictorInput, type PredictSpec, type PredictResult } from "./recipes/predict.js";
// Export and compression
export { exportOnnx, validateExport } from "./export/onnx_export.js";
export { quantizeDynamicInt8, encodeQuantized } from "./compress/quantize.js";
// Translation (MarianMT)
export { translate, Translator, type Translation, type TranslateOptions } from "./models/translate.js";
export { loadMarian, type MarianPretrained } from "./models/marian_load.js";
export { MarianMTModel, type MarianConfig } from "./models/marian.js";
export { MarianRunner } from "./models/marian_runner.js";
export { generate, type GenerateOutput } from "./models/generate.js";
export {
  readGenerationConfig, withOptions as withGenerationOptions, type GenerationConfig, type GenerateOptions,
} from "./models/generation_config.js";
export { loadMarianTokenizer, MarianTokenizer } from "./tokenizers/marian_tokenizer.js";
// Reports and the bias check
export { TensorBoardCallback } from "./train/tensorboard.js";
export { EventFileWriter } from "./train/tfevents.js";
export { calibration, softmaxRows } from "./train/calibration.js";
export { classificationReport, classifierDetails, rocAuc } from "./train/classification_report.js";
export { metricFrame, standardGroupMetrics, type MetricFrameResult } from "./train/metric_frame.js";
export { biasCheck, type BiasCheckResult } from "./report/bias_check.js";
export { builtinLexicon, parseLexicon, readLexicon } from "./report/lexicon.js";
export { buildHtmlReport, type ReportSection } from "./report/html_report.js";
export { readRunDir } from "./report/run_dir.js";
// Hyperparameter search in Optuna's storage (src/hpo).
export { createStudy, loadStudy, type CreateStudyOptions } from "./hpo/study_api.js";
export { Study, type OptimizeOptions } from "./hpo/study.js";
export { Trial, TrialPruned } from "./hpo/trial.js";
export { openStorage } from "./hpo/storage_url.js";
export { TpeSampler } from "./hpo/tpe_sampler.js";
export { RandomSampler } from "./hpo/random_sampler.js";
export { GridSampler } from "./hpo/grid_sampler.js";
export {
  MedianPruner, PercentilePruner, SuccessiveHalvingPruner, HyperbandPruner, NopPruner,
} from "./hpo/pruners.js";
export { parameterImportances } from "./hpo/importance.js";
// Data augmentation
export { augmentTextRows, augmentTokenRows, type AugmentSummary } from "./data/augment/augment_rows.js";
export { augmentFile } from "./data/augment/augment_file.js";
export { parseAugmentSpec, AugmentConfigSchema, type AugmentSpec } from "./data/augment/augment_spec.js";
export { eda, EDA_DEFAULTS } from "./data/augment/eda.js";
export { Thesaurus } from "./data/augment/thesaurus.js";
export { codeSwitch, readMuseDictionary } from "./data/augment/code_switch.js";
export { generateFromTemplates, readTemplates } from "./data/augment/templates.js";
export { writeTable } from "./data/write_table.js";
export { BackTranslator } from "./models/back_translate.js";
