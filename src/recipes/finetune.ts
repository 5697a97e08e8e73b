/**
 * Fine-tuning as one call: a validated run spec in, the trained model's folder, its metrics and
 * the data report out. `whet train` is this function behind flags; a hyperparameter search calls
 * it once per trial (with a pruning callback), a report reads what it returns.
 *
 * @example
 * import { finetune, resolveRunSpec } from "whetml";
 * const spec = resolveRunSpec({ model: "prajjwal1/bert-mini", train_file: "train.csv", output_dir: "runs/a" });
 * const result = await finetune(spec);
 * console.log(result.metrics.accuracy, result.outputDir);
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { prepareData, type BeforeEncode, type PreparedData } from "../data/prepare.js";
import { readConfig } from "../io/config.js";
import { writeTextAtomic } from "../io/files.js";
import { resolveModel } from "../io/hub.js";
import { lockOutputDir } from "../io/run_lock.js";
import { dropoutOverrides, familyOf, familySize, maxSequenceLength } from "../models/auto.js";
import { fromPretrained } from "../models/pretrained.js";
import { peftFromSpec, setupRunAdapter } from "./adapter_setup.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import type { TrainerCallback } from "../train/callbacks.js";
import { formatTrainable, startingCounts } from "../train/fine_tuning.js";
import { prepareRunOutput, refuseFinishedRun } from "../train/run_output.js";
import { Trainer, WHET_VERSION } from "../train/trainer.js";
import { augmentationStep } from "./augment_step.js";
import { applyLearningRateRule } from "./learning_rate_rule.js";
import type { RunSpec } from "./run_spec.js";

/** What a recipe may be given besides the spec. */
export interface RecipeOptions {
  /** Added after the Trainer's own callbacks (a search's pruner, a report's TensorBoard writer). */
  callbacks?: readonly TrainerCallback[];
  /** Aborting it stops training after the current step with a checkpoint (`interrupted` in the result). */
  signal?: AbortSignal;
  /** Where notes and log lines go (default: stderr, with a progress line on a terminal). */
  log?: (line: string) => void;
  /** Recorded in run.json besides the spec (e.g. the command line). */
  runInfo?: Record<string, unknown>;
}

export interface FinetuneOptions extends RecipeOptions {
  /** Rewrites the training rows between reading and encoding (augmentation); never sees evaluation rows. */
  beforeEncode?: BeforeEncode;
}

export interface RunResult {
  /** The trained model's folder (config.json, model.safetensors, tokenizer, run.json, trainer_log.jsonl…). */
  outputDir: string;
  /** The starting model's folder (a Hub id resolved into the cache). */
  modelDir: string;
  task: RunSpec["task"];
  labelNames: string[];
  globalStep: number;
  trainLoss: number;
  /** The final evaluation's metrics, unprefixed (`accuracy`, `loss`); empty without evaluation data. */
  metrics: Record<string, number>;
  stoppedEarly: boolean;
  interrupted: boolean;
  /** The data report (also in data_report.json) and its readable text. */
  dataReport: unknown;
  dataReportText: string;
  /** Parameters drawn afresh rather than loaded (a new head). */
  initialized: string[];
}

/** Augmentation first, then the caller's own hook. */
function chain(first: BeforeEncode, then?: BeforeEncode): BeforeEncode {
  return async (train, ctx) => (then ? then(await first(train, ctx), ctx) : first(train, ctx));
}

/** Hashed in 1 MiB pieces: a training file may be larger than one wants to hold twice. */
function sha256(path: string): string {
  const hash = createHash("sha256"), buf = Buffer.alloc(1 << 20), fd = openSync(path, "r");
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** As run_glue does: never longer than the model can take, and say so. */
function clampMaxLength(spec: RunSpec, dir: string, log: (l: string) => void): void {
  const limit = maxSequenceLength(readConfig(dir));
  if (spec.args.max_length > limit) {
    log(`max_length ${spec.args.max_length} is longer than this model's ${limit} positions: using ${limit}`);
    spec.args.max_length = limit;
  }
}

async function prepare(
  spec: RunSpec, dir: string, tok: Tokenizer, o: FinetuneOptions, log: (l: string) => void,
): Promise<PreparedData> {
  const a = spec.args;
  const source = {
    task: spec.task, trainFile: spec.train_file, validationFile: spec.validation_file, validationSplit: spec.validation_split,
    textColumn: spec.text_column, textPairColumn: spec.text_pair_column, labelColumn: spec.label_column,
    labelSeparator: spec.label_separator, strict: spec.strict, quote: spec.quote, header: spec.header,
    problemType: spec.problem_type, labelNames: spec.label_names,
  };
  return prepareData(source, {
    tokenizer: tok, maxLength: a.max_length, seed: a.seed, holdOut: a.eval_strategy !== "no",
    modelLabels: readConfig(dir), beforeEncode: o.beforeEncode, log,
  });
}

/** Fine-tune for sequence or token classification; see the module comment. */
export async function finetune(input: RunSpec, o: FinetuneOptions = {}): Promise<RunResult> {
  // A finished run is refused before the model is even resolved (no download, no tokenizer).
  refuseFinishedRun(input.args);
  // The output folder's rules first (taking the lock creates the folder, inside an input perhaps);
  // checked again, unchanged, once the data is read.
  const modelDir = await resolveModel(input.model);
  familyOf(readConfig(modelDir)); // an architecture whet cannot build is still the first thing to say
  await prepareRunOutput(input.args, [modelDir, input.train_file, input.validation_file], o.log);
  // Before anything is loaded: a second run into a busy folder is refused at once.
  const unlock = await lockOutputDir(input.args.output_dir, { log: o.log });
  try {
    return await finetuneLocked(input, o);
  } finally {
    await unlock();
  }
}

async function finetuneLocked(input: RunSpec, o: FinetuneOptions): Promise<RunResult> {
  const spec: RunSpec = { ...input, args: { ...input.args } };
  const a = spec.args, log = o.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const peft = peftFromSpec(spec.peft, spec.adapter, spec.task);
  const dir = await resolveModel(spec.model);
  const family = familyOf(readConfig(dir)); // an architecture whet cannot build is the first thing to say
  const tok = await loadTokenizer(dir);
  clampMaxLength(spec, dir, log);
  const lrNote = applyLearningRateRule(spec, familySize(family, readConfig(dir), "hidden_size"));
  if (lrNote) log(lrNote);
  const step = spec.augment ? augmentationStep(spec.augment) : null;
  const data = await prepare(spec, dir, tok, step ? { ...o, beforeEncode: chain(step.hook, o.beforeEncode) } : o, log)
    .finally(() => step?.release());
  if (step) {
    data.report = { ...(data.report as object), augmentation: step.summaries };
    data.reportText = [data.reportText, ...step.reportLines()].join("\n");
  }
  log(data.reportText);
  if (data.kind === "class" && data.labelNames.length === 1) {
    log(`warning: every training row has the label "${data.labelNames[0]}": the model can only learn to predict it`);
  }
  // Checked before anything is written; a finished run it replaces is swapped out only on success.
  const out = await prepareRunOutput(a, [dir, spec.train_file, spec.validation_file], log);
  a.output_dir = out.workDir;

  const overrides: Record<string, unknown> = {
    ...dropoutOverrides(family.modelType, {
      hidden: a.hidden_dropout_prob, attention: a.attention_dropout_prob, classifier: a.classifier_dropout_prob,
    }),
    ...(data.problemType ? { problem_type: data.problemType } : {}),
  };
  const { model, report: load } = await fromPretrained(dir, {
    task: spec.task, labels: data.labelNames, configOverrides: overrides, seed: a.seed, freshHead: data.freshHead,
  });
  if (load.initialized.length) log(`newly initialised (not in the checkpoint): ${load.initialized.join(", ")}`);
  const run = await setupRunAdapter(model, { settings: peft, adapter: spec.adapter, seed: a.seed, baseModel: spec.model, labels: data.labelNames, tok }, log);
  // The report ends with what will train (freeze, gradual unfreezing): known once the model is built.
  const parameters = startingCounts(model, a);
  log(formatTrainable(parameters));
  const report = { ...(data.report as object), parameters };
  const trainer = new Trainer({
    model, args: a, train: data.train, eval: data.eval, labels: data.kind, labelNames: data.labelNames,
    padId: tok.padTokenId ?? 0, tokenizer: tok, log: o.log, callbacks: o.callbacks, signal: o.signal, modelFiles: run?.files,
    runInfo: {
      ...o.runInfo,
      model: spec.model, model_dir: dir, family: family.prefix,
      data: {
        train_file: spec.train_file, train_sha256: sha256(spec.train_file),
        ...(spec.validation_file
          ? { validation_file: spec.validation_file, validation_sha256: sha256(spec.validation_file) } : {}),
      },
      task: spec.task, labels: data.labelNames, whet: WHET_VERSION,
      ...(step ? { augment: { ...spec.augment, summaries: step.summaries } } : {}),
    },
  });
  const result = await out.run(async (work) => {
    await writeTextAtomic(join(work, "data_report.json"), JSON.stringify(report, null, 1));
    return trainer.train();
  });
  return {
    outputDir: out.requested, modelDir: dir, task: spec.task, labelNames: data.labelNames, ...result,
    dataReport: data.report, dataReportText: data.reportText, initialized: load.initialized,
  };
}
