/**
 * Knowledge distillation as one call: a smaller student trained on a fine-tuned teacher's softened
 * logits mixed with the labels, then both scored side by side on the validation file.
 *
 * @example
 * import { distill, resolveArguments } from "whetml";
 * const r = await distill({ teacher: "runs/teacher", studentLayers: 2, trainFile: "train.csv", validationFile: "dev.csv",
 *   alpha: 0.5, temperature: 2, args: resolveArguments({ output_dir: "runs/student" }) });
 * console.log(r.teacher?.accuracy, r.student?.accuracy);
 */
import { WhetError } from "../core/errors.js";
import type { Example } from "../data/examples.js";
import { encodeRows } from "../data/examples.js";
import { LabelMap } from "../data/labels.js";
import { readTable } from "../data/read.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readConfig, type PretrainedConfig } from "../io/config.js";
import { resolveModel } from "../io/hub.js";
import { familyOf, maxSequenceLength, type TaskModel } from "../models/auto.js";
import { fromPretrained } from "../models/pretrained.js";
import { shrinkTeacher } from "../models/shrink.js";
import { mergeAdapter } from "../peft/merge.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { adapterLabelOverrides, loadAdapter } from "../train/adapter_model.js";
import type { TrainingArguments } from "../train/arguments.js";
import { distillation, teacherLogits } from "../train/distill_loss.js";
import { Evaluator } from "../train/evaluator.js";
import { prepareRunOutput } from "../train/run_output.js";
import { Trainer } from "../train/trainer.js";
import { peftFromSpec, setupRunAdapter } from "./adapter_setup.js";
import type { RecipeOptions } from "./finetune.js";

export interface DistillSpec {
  /** The fine-tuned teacher (sequence classification): folder or Hub id… */
  teacher: string;
  /** …plus this PEFT adapter folder (--adapter): LoRA and IA3 are merged into it before distilling. */
  adapter?: string;
  /** The student trains an adapter instead of all its weights (PEFT's keys, as finetune's `peft`). */
  peft?: unknown;
  /** The student to train (folder or Hub id)… */
  student?: string;
  /** …or a student made of this many of the teacher's layers. */
  studentLayers?: number;
  trainFile: string;
  validationFile?: string;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  /** Weight of the distillation term; the label loss gets 1 − alpha. */
  alpha: number;
  temperature: number;
  args: TrainingArguments;
}

/** A model's score on the validation file, and what it costs. */
export interface ModelScore {
  accuracy: number;
  f1: number;
  params: number;
  eval_tokens_per_s: number;
}

export interface DistillResult {
  outputDir: string;
  globalStep: number;
  trainLoss: number;
  interrupted: boolean;
  /** Both models on the validation file (absent without one). */
  teacher?: ModelScore;
  student?: ModelScore;
}

async function score(model: TaskModel, examples: readonly Example[], padId: number, a: TrainingArguments): Promise<ModelScore> {
  const ev = await Evaluator.create({ model, examples, labels: "class", padId, batchSize: a.per_device_eval_batch_size, threads: a.threads });
  const t0 = performance.now();
  const m = await ev.evaluate();
  const ms = performance.now() - t0;
  await ev.release();
  const tokens = examples.reduce((s, e) => s + e.input_ids.length, 0);
  return { accuracy: m.accuracy, f1: m.f1, params: model.parameters().reduce((s, p) => s + p.size, 0), eval_tokens_per_s: Math.round(tokens / (ms / 1000)) };
}

/**
 * As finetune does (run_glue): max_length never longer than the teacher or the student can take
 * (both read the same token ids), and say which one set the limit.
 */
function clampToPositions(args: TrainingArguments, models: readonly (readonly [string, PretrainedConfig])[],
  log: (line: string) => void): void {
  for (const [role, config] of models) {
    const limit = maxSequenceLength(config);
    if (args.max_length <= limit) continue;
    log(`max_length ${args.max_length} is longer than the ${role}'s ${limit} positions: using ${limit}`);
    args.max_length = limit;
  }
}

/**
 * The teacher: the model folder, plus its adapter when one is given. LoRA and IA3 are merged
 * first (a student made of the teacher's layers then copies the adapted weights); prompt and
 * prefix tuning stay attached, as they cannot be folded into weights.
 */
async function loadTeacher(
  dir: string, overrides: Partial<PretrainedConfig>, adapter: string | undefined, log: (l: string) => void,
): Promise<{ teacher: TaskModel; tok: Tokenizer }> {
  const { model: teacher } = await fromPretrained(dir, { task: "sequence-classification", configOverrides: overrides });
  const tok = await loadTokenizer(adapter && existsSync(join(adapter, "tokenizer.json")) ? adapter : dir);
  if (!adapter) return { teacher, tok };
  const a = await loadAdapter(teacher, adapter);
  const type = a.settings.peft_type;
  if (type === "LORA" || type === "IA3") mergeAdapter(teacher, a);
  else log(`teacher adapter ${type} cannot be merged into weights: it stays attached (a student made of teacher layers starts without it)`);
  for (const p of teacher.parameters()) p.requiresGrad = false;
  log(`teacher: ${dir} + ${type} adapter ${adapter}${type === "LORA" || type === "IA3" ? " (merged)" : ""}`);
  return { teacher, tok };
}

/** Distil a teacher into a student; see the module comment. */
export async function distill(s: DistillSpec, o: RecipeOptions = {}): Promise<DistillResult> {
  const args = { ...s.args }, log = o.log ?? ((l: string) => process.stderr.write(l + "\n"));
  if (!s.student === !s.studentLayers) throw new WhetError("distill: give exactly one of --student and --student-layers");
  const loss = distillation({ alpha: s.alpha, temperature: s.temperature });
  const studentPeft = peftFromSpec(s.peft, undefined, "sequence-classification");
  if (studentPeft && !s.student) {
    throw new WhetError("distill: --peft needs --student (the saved base its adapter refers to); a student made of teacher layers trains in full");
  }
  const tdir = await resolveModel(s.teacher);
  const tconf = readConfig(tdir);
  // An adapter's saved head brings its own labels (the config.json a whet run writes beside it).
  const overrides = s.adapter ? await adapterLabelOverrides(s.adapter, tconf) : {};
  Object.assign(tconf, overrides);
  const sdir = s.student ? await resolveModel(s.student) : undefined;
  clampToPositions(args, [["teacher", tconf], ...(sdir ? [["student", readConfig(sdir)] as const] : [])], log);
  const { teacher, tok } = await loadTeacher(tdir, overrides, s.adapter, log);
  const labels = LabelMap.fromConfig(tconf);
  const readOpts = { textColumn: s.textColumn ?? "text", textPairColumn: s.textPairColumn, labelColumn: s.labelColumn ?? "label" };
  const encode = async (file: string) => (await encodeRows((await readTable(file, readOpts)).rows, tok, args.max_length, labels)).examples;
  const train = await encode(s.trainFile);
  const evalSet = s.validationFile ? await encode(s.validationFile) : [];
  const padId = tok.padTokenId ?? 0;
  log(`computing the teacher's logits for ${train.length} examples (once)`);
  const logits = await teacherLogits(teacher, train, padId, args.per_device_eval_batch_size, args.threads);
  train.forEach((e, i) => (e.teacher = logits[i]));
  const student = s.studentLayers
    ? shrinkTeacher(teacher, s.studentLayers, args.seed)
    : (await fromPretrained(sdir!, { task: "sequence-classification", labels: [...labels.names], seed: args.seed })).model;
  if (familyOf(student.config).tokenTypes !== familyOf(tconf).tokenTypes) {
    throw new WhetError("distill: teacher and student must share a tokenizer family (the student reads the teacher's token ids)");
  }
  const run = await setupRunAdapter(student, { settings: studentPeft, seed: args.seed, baseModel: s.student ?? tdir, labels: [...labels.names], tok }, log);
  const out = await prepareRunOutput(args, [tdir, s.adapter, s.student, s.trainFile, s.validationFile], log);
  args.output_dir = out.workDir;
  const trainer = new Trainer({
    model: student, args: { ...args, eval_strategy: evalSet.length ? args.eval_strategy : "no" }, train, eval: evalSet, labels: "class",
    labelNames: [...labels.names], padId, tokenizer: tok, loss, log: o.log, callbacks: o.callbacks, signal: o.signal,
    modelFiles: run?.files,
    runInfo: { ...o.runInfo, teacher: s.teacher, ...(s.adapter ? { teacher_adapter: s.adapter } : {}), student: s.student ?? `${s.studentLayers} teacher layers` },
  });
  const result = await out.run(() => trainer.train());
  const r: DistillResult = { outputDir: out.requested, globalStep: result.globalStep, trainLoss: result.trainLoss, interrupted: result.interrupted };
  if (evalSet.length) {
    r.teacher = await score(teacher, evalSet, padId, args);
    r.student = await score(student, evalSet, padId, args);
  }
  return r;
}
