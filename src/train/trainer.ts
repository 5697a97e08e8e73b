import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { UsageError, WhetError } from "../core/errors.js";
import { optionName, optionSetting } from "../core/option_names.js";
import type { NDArray } from "../core/ndarray.js";
import { Rng } from "../core/rng.js";
import type { Tensor } from "../graph/tensor.js";
import { numLabels } from "../io/config.js";
import { writeTextAtomic } from "../io/files.js";
import { lockOutputDir } from "../io/run_lock.js";
import { familyOf, type Task, type TaskModel } from "../models/auto.js";
import { learningRate, type ScheduleOptions } from "../optim/schedule.js";
import { TrainStep, type InputDecl } from "../optim/train_step.js";
import { reportsTo, scheduleLength, type TrainingArguments } from "./arguments.js";
import { CallbackList, type TrainerCallback, type TrainerState } from "./callbacks.js";
import {
  cleanCheckpointLeftovers, listCheckpoints, loadCheckpoint, rotateCheckpoints, saveCheckpoint,
  type LoopState, type ModelFiles, type Saveable,
} from "./checkpoint.js";
import { batchInputs, collate, type Batch, type Example, type LabelKind } from "../data/collate.js";
import { EarlyStoppingCallback } from "./early_stopping.js";
import { Evaluator, standardMetrics, type EvalPrediction, type MetricsFn } from "./evaluator.js";
import { FineTuning } from "./fine_tuning.js";
import { runPrediction, type PredictionOutput } from "./prediction.js";
import { ConsoleLogCallback, JsonlLogCallback, round, RunRecordCallback } from "./log_callbacks.js";
import type { LossPlugin } from "./loss_plugin.js";
import { ProgressCallback } from "./progress_line.js";
import { defaultLoggingDir, TensorBoardCallback } from "./tensorboard.js";
import { balancedClassWeights, taskLoss } from "./task_loss.js";
import { GradualUnfreezingCallback } from "./unfreezing.js";

export interface TrainerOptions {
  model: TaskModel;
  args: TrainingArguments;
  train: readonly Example[];
  eval?: readonly Example[];
  labels: LabelKind;
  /** Label names in id order (written into config.json). */
  labelNames?: readonly string[];
  /**
   * The id batches are padded with. Default: the tokenizer's pad token, else the model config's
   * pad_token_id (as transformers' collator pads with `tokenizer.pad_token_id`).
   */
  padId?: number;
  computeMetrics?: MetricsFn;
  /** Saved beside the model (checkpoints, the final folder); its pad token pads the batches. */
  tokenizer?: Saveable & { readonly padTokenId?: number };
  /** Where log lines go (default: stderr, below a progress line on a terminal). */
  log?: (line: string) => void;
  /** Recorded in run.json: data file hashes, the command line, versions. */
  runInfo?: Record<string, unknown>;
  /**
   * Rewrites each training micro-batch just before collation (masked-LM masking, drawn anew each
   * epoch). `indices` are the examples' positions in `train`; the result must depend only on the
   * examples and the key, so a resumed run repeats an uninterrupted one.
   */
  transformBatch?: (examples: readonly Example[], key: BatchKey) => Example[];
  /** The head saved into config.json's "architectures" (default: from `labels`; "masked-lm" when pretraining). */
  task?: Task;
  /** A loss beyond the task's own (e.g. `distillation({ alpha, temperature })`). */
  loss?: LossPlugin;
  /** Called in order after the built-in ones (run.json, trainer_log.jsonl, log lines, progress, early stopping). */
  callbacks?: readonly TrainerCallback[];
  /** Aborting it stops after the current step with a checkpoint, as requestStop() does (the CLI wires signals here). */
  signal?: AbortSignal;
  /** What checkpoints and the final save hold instead of the whole model (an adapter: see adapterModelFiles). */
  modelFiles?: ModelFiles;
}

/** The micro-batch transformBatch rewrites: its epoch, its index in the epoch, its examples' positions in `train`. */
export interface BatchKey {
  epoch: number;
  micro: number;
  indices: readonly number[];
}

export interface TrainResult {
  globalStep: number;
  trainLoss: number;
  metrics: Record<string, number>;
  /** A callback (early stopping, a search's pruner) ended the run before its last step. */
  stoppedEarly: boolean;
  /** A stop request (requestStop, the abort signal) ended the run with a checkpoint to resume from. */
  interrupted: boolean;
}

/** What one call of train() holds while it runs. */
interface Run {
  step: TrainStep;
  evaluator: Evaluator | null;
  schedule: ScheduleOptions;
  epochs: number;
  loop: LoopState;
  lossSum: number;
  steps: number;
  lastLoss: number;
}

/**
 * The fine-tuning loop of transformers' Trainer: schedules, accumulation, evaluation and saving on
 * schedule, best-model tracking, checkpoints that resume bit for bit, and callbacks around it
 * (see callbacks.ts) for logging, progress, early stopping and whatever a caller adds.
 */
export class Trainer {
  private readonly args: TrainingArguments;
  private readonly write: (line: string) => void;
  private readonly progress: ProgressCallback | null;
  private readonly callbacks: CallbackList;
  /** Frozen modules, layer-wise rates, free-form groups, gradual unfreezing (see fine_tuning.ts). */
  readonly fineTuning: FineTuning;
  private stopReason: string | null = null;
  private run: Run | null = null;
  private readonly padId: number;

  constructor(private readonly options: TrainerOptions) {
    const o = options, a = o.args;
    this.args = a;
    if (o.train.length === 0) throw new WhetError("training: the training set is empty");
    this.padId = resolvePadId(o);
    o.loss?.check?.({ train: o.train, labels: o.labels });
    this.progress = o.log ? null : new ProgressCallback();
    const progress = this.progress;
    this.write = o.log ?? ((line) => progress!.print(line));
    // Checked (and the freeze applied) before any work: a bad strategy is a usage error now.
    this.fineTuning = new FineTuning(o.model, a, { epochs: scheduleLength(a, o.train.length).epochs, log: this.write });
    const record = {
      args: a, whet_version: WHET_VERSION, node: process.version, started: new Date().toISOString(),
      fine_tuning: this.fineTuning.record(),
    };
    const builtIn: TrainerCallback[] = [
      new RunRecordCallback(a.output_dir, { ...record, ...o.runInfo }),
      new JsonlLogCallback(a.output_dir),
      new ConsoleLogCallback(this.write),
      ...(progress ? [progress] : []),
      ...(reportsTo(a, "tensorboard") ? [new TensorBoardCallback(a.logging_dir ?? defaultLoggingDir(a.output_dir))] : []),
    ];
    const plan = this.fineTuning.unfreezing;
    if (plan) builtIn.push(new GradualUnfreezingCallback(plan, () => this.refreshTrainable(), this.write));
    if (a.early_stopping_patience !== undefined) {
      builtIn.push(new EarlyStoppingCallback({
        patience: a.early_stopping_patience, threshold: a.early_stopping_threshold, metric: a.metric_for_best_model!,
        greaterIsBetter: a.greater_is_better!, log: this.write,
      }));
    }
    this.callbacks = new CallbackList([...builtIn, ...(o.callbacks ?? [])], () => this.state);
    const signal = o.signal;
    const stop = () => this.requestStop(String(signal!.reason ?? "stop requested"));
    if (signal?.aborted) stop();
    signal?.addEventListener("abort", stop, { once: true });
  }

  /** Stop after the current step with a checkpoint (train() then returns `interrupted: true`). */
  requestStop(reason = "stop requested"): void {
    this.stopReason ??= reason;
  }

  /**
   * Follow the parameters' requiresGrad flags (set by a callback, e.g. at onEpochBegin): when the
   * trainable set changed, the step switches to that set's compiled program (compiling it the
   * first time) and keeps every moment. Returns whether it changed. Outside train() it does nothing.
   */
  async refreshTrainable(): Promise<boolean> {
    return this.run ? this.run.step.updateTrainable() : false;
  }

  /** Register a callback after those given to the constructor. */
  addCallback(cb: TrainerCallback): void {
    this.callbacks.add(cb);
  }

  removeCallback(cb: TrainerCallback): boolean {
    return this.callbacks.remove(cb);
  }

  /**
   * transformers' `Trainer.evaluate`: the model as it stands on `dataset` (default: the `eval`
   * set given to the constructor), metrics under "eval_" (eval_loss, eval_accuracy…,
   * eval_runtime), and `epoch` once training ran. Callbacks are not called.
   */
  async evaluate(dataset?: readonly Example[], o: { metricKeyPrefix?: string } = {}): Promise<Record<string, number>> {
    const examples = dataset ?? this.options.eval;
    if (!examples || examples.length === 0) {
      throw new WhetError("evaluate: no dataset given, and the Trainer was given no eval set");
    }
    const { metrics } = await this.predictOn(examples, o.metricKeyPrefix ?? "eval");
    return this.run ? { ...metrics, epoch: round(this.run.loop.epoch, 4) } : metrics;
  }

  /**
   * transformers' `Trainer.predict`: `{ predictions, label_ids, metrics }` with the logits stacked
   * (see PredictionOutput) and metrics under "test_"; examples without labels give logits alone.
   */
  async predict(dataset: readonly Example[], o: { metricKeyPrefix?: string } = {}): Promise<PredictionOutput> {
    return this.predictOn(dataset, o.metricKeyPrefix ?? "test");
  }

  private async predictOn(examples: readonly Example[], prefix: string): Promise<PredictionOutput> {
    const a = this.args, o = this.options;
    return runPrediction(examples, {
      model: o.model, labels: o.labels, padId: this.padId, batchSize: a.per_device_eval_batch_size, threads: a.threads,
      computeMetrics: o.computeMetrics, classWeights: this.classWeights(), prefix,
    });
  }

  /**
   * transformers' `save_model`: the model (or just the adapter, given modelFiles) and the
   * tokenizer into `dir`, default output_dir, in the Hugging Face layout. train() does it at the end.
   */
  async saveModel(dir: string = this.args.output_dir): Promise<void> {
    const { saveModel } = await import("../models/save.js");
    const o = this.options;
    if (o.modelFiles) await o.modelFiles.save(dir);
    else await saveModel(o.model, dir, { task: this.task(), labels: o.labelNames });
    if (o.tokenizer) await o.tokenizer.save(dir);
  }

  /** The run as callbacks see it (zeros before train() starts). */
  get state(): TrainerState {
    const r = this.run;
    const loop = r?.loop;
    return {
      globalStep: loop?.global_step ?? 0,
      epoch: loop?.epoch ?? 0,
      maxSteps: loop?.total_steps ?? 0,
      numTrainEpochs: r?.epochs ?? 0,
      logHistory: loop?.log_history ?? [],
      bestMetric: loop?.best_metric ?? null,
      bestModelCheckpoint: loop?.best_model_checkpoint ?? null,
      lastLoss: r?.lastLoss ?? NaN,
      learningRate: r && loop ? learningRate(r.schedule, loop.global_step) : 0,
    };
  }

  private task(): Task {
    if (this.options.task) return this.options.task;
    const kind = this.options.labels;
    return kind === "token" ? "token-classification" : kind === "masked_token" ? "masked-lm" : "sequence-classification";
  }

  /** The order of example indices for an epoch: a pure function of (data_seed, epoch). */
  epochOrder(epoch: number): number[] {
    const train = this.options.train, a = this.args;
    const n = train.length;
    if (a.train_sampling === "sequential") return Array.from({ length: n }, (_, i) => i);
    const perm = new Rng(a.data_seed ?? a.seed, epoch, 0x6f72646572).permutation(n);
    if (a.train_sampling === "random") return perm;
    // group_by_length: sort shuffled mega-batches by length (as transformers' LengthGroupedSampler),
    // then put the mega-batch holding the longest example first so memory peaks at once.
    const mega = a.per_device_train_batch_size * 50;
    const groups: number[][] = [];
    const longestFirst = (x: number, y: number) => train[y].input_ids.length - train[x].input_ids.length;
    for (let i = 0; i < n; i += mega) groups.push(perm.slice(i, i + mega).sort(longestFirst));
    return groups.flat();
  }

  private inputs(): InputDecl[] {
    const c = this.options.model.config;
    const labels = this.options.labels;
    const decl = batchInputs({ tokenTypes: familyOf(c).tokenTypes, labels, numLabels: numLabels(c) });
    return [...decl, ...(this.options.loss?.inputs({ numLabels: numLabels(c) }) ?? [])];
  }

  private classWeights(): number[] | undefined {
    const cw = this.args.class_weights, o = this.options;
    if (cw === undefined) return undefined;
    const k = Number(Object.keys(o.model.config.id2label ?? {}).length || o.model.config.num_labels || 2);
    if (cw === "balanced") {
      const labels = o.train.flatMap((e) => (Array.isArray(e.label) ? e.label : [e.label as number]));
      return balancedClassWeights(labels.filter((l) => l !== -100), k);
    }
    if (cw.length !== k) throw new UsageError(`${optionName("class_weights")} has ${cw.length} values but the model has ${k} labels`);
    return cw;
  }

  async train(): Promise<TrainResult> {
    const unlock = await lockOutputDir(this.args.output_dir);
    try {
      return await this.trainLocked();
    } finally {
      await unlock();
    }
  }

  private async trainLocked(): Promise<TrainResult> {
    await this.prepareOutputDir();
    const run = await this.startRun();
    this.run = run;
    try {
      await this.callbacks.call("onTrainBegin");
      const outcome = await this.runEpochs(run);
      if (outcome === "interrupted") {
        await this.callbacks.call("onTrainEnd");
        return this.result(run, {}, false, true);
      }
      return await this.finish(run, outcome === "stopped");
    } finally {
      this.progress?.onTrainEnd();
      await run.step.release();
      await run.evaluator?.release();
    }
  }

  /** Compile the step, create the evaluator, check the best-model metric, and start or resume the state. */
  private async startRun(): Promise<Run> {
    const a = this.args, o = this.options;
    const { totalSteps, warmupSteps, epochs } = scheduleLength(a, o.train.length);
    const schedule: ScheduleOptions = { type: a.lr_scheduler_type, lr: a.learning_rate, warmupSteps, totalSteps };
    const weights = this.classWeights();
    const step = await this.compileStep(weights);
    let evaluator: Evaluator | null = null;
    try {
      evaluator = await this.createEvaluator(weights);
      let loop: LoopState = {
        global_step: 0, epoch: 0, epoch_index: 0, next_micro: 0, optimizer_t: 0, micro: 0, total_steps: totalSteps,
        log_history: [], best_metric: null, best_model_checkpoint: null, loss_since_log: 0, steps_since_log: 0,
        total_loss: 0, finished: false,
      };
      const resume = this.resumePath();
      if (resume) {
        loop = await loadCheckpoint(resume, o.model, step, o.modelFiles);
        // As transformers: the step total follows the arguments of this run (the schedule does too).
        loop.total_steps = totalSteps;
        this.write(`resumed from ${resume} at step ${loop.global_step} of ${totalSteps}`);
      }
      return { step, evaluator, schedule, epochs, loop, lossSum: 0, steps: 0, lastLoss: NaN };
    } catch (e) {
      await step.release();
      await evaluator?.release();
      throw e;
    }
  }

  private async compileStep(weights: number[] | undefined): Promise<TrainStep> {
    const a = this.args, o = this.options;
    return TrainStep.compile({
      inputs: this.inputs(),
      forward: (x) => {
        const out = o.model.forward({
          input_ids: x.input_ids, attention_mask: x.attention_mask, token_type_ids: x.token_type_ids,
          masked_positions: x.masked_positions,
        });
        const lossOptions = { classWeights: weights, labelSmoothing: a.label_smoothing_factor };
        const loss = taskLoss(out.logits, x.labels as Tensor, o.labels, lossOptions);
        return { loss: o.loss ? o.loss.combine(loss, out, x) : loss };
      },
      params: o.model.parameters(),
      groups: this.fineTuning.groups,
      groupOf: this.fineTuning.groupOf,
      adam: { beta1: a.adam_beta1, beta2: a.adam_beta2, eps: a.adam_epsilon },
      maxGradNorm: a.max_grad_norm > 0 ? a.max_grad_norm : null,
      seed: a.seed,
      threads: a.threads,
      accumulation: a.gradient_accumulation_steps > 1,
    });
  }

  private async createEvaluator(weights: number[] | undefined): Promise<Evaluator | null> {
    const a = this.args, o = this.options;
    if (a.eval_strategy === "no") return null;
    if (!o.eval || o.eval.length === 0) {
      throw new UsageError(`${optionName("eval_strategy")} is "${a.eval_strategy}" but there is no evaluation data: ` +
        `give a validation set or set ${optionSetting("eval_strategy", "no")}`);
    }
    if (!o.computeMetrics) {
      // Known before any work: a best-model metric the evaluation will not produce is an error now.
      const standard = standardMetrics(dummyPrediction(o.labels, o.eval[0]), o.model.config.id2label);
      const names = ["loss", ...(o.labels === "masked_token" ? ["perplexity"] : []), ...Object.keys(standard)];
      if (!names.includes(a.metric_for_best_model!)) {
        throw new UsageError(`${optionName("metric_for_best_model")} "${a.metric_for_best_model}" is not computed for this task; the metrics are: ${names.join(", ")}`);
      }
    }
    return Evaluator.create({
      model: o.model, examples: o.eval, labels: o.labels, padId: this.padId, batchSize: a.per_device_eval_batch_size,
      threads: a.threads, computeMetrics: o.computeMetrics, classWeights: weights,
    });
  }

  /** The epochs from where the state stands; says why they ended. */
  private async runEpochs(run: Run): Promise<"done" | "stopped" | "interrupted"> {
    const loop = run.loop, control = this.callbacks.control;
    for (let epoch = loop.epoch_index; epoch < run.epochs; epoch++) {
      await this.callbacks.call("onEpochBegin");
      const micros = this.microBatches(epoch);
      let m = epoch === loop.epoch_index ? loop.next_micro : 0;
      while (m < micros.length && loop.global_step < loop.total_steps) {
        m = await this.optimizerStep(run, epoch, micros, m);
        const endOfEpoch = m >= micros.length;
        if (endOfEpoch) {
          loop.epoch_index = epoch + 1;
          loop.next_micro = 0;
        }
        this.scheduleFlow(endOfEpoch);
        await this.callbacks.call("onStepEnd");
        if (endOfEpoch) await this.callbacks.call("onEpochEnd");
        await this.logSaveEvaluate(run);
        if (this.stopReason) {
          this.write(`${this.stopReason}: saved checkpoint-${loop.global_step}, stopping`);
          return "interrupted";
        }
        if (control.shouldTrainingStop) return "stopped";
      }
      if (loop.global_step >= loop.total_steps) break;
    }
    return "done";
  }

  /** Micro-batches of an epoch, as lists of example indices. */
  private microBatches(epoch: number): number[][] {
    const order = this.epochOrder(epoch), B = this.args.per_device_train_batch_size;
    const micros: number[][] = [];
    for (let i = 0; i < order.length; i += B) micros.push(order.slice(i, i + B));
    return micros;
  }

  /** One optimizer step over up to gradient_accumulation_steps micro-batches from `m`; returns the next micro-batch. */
  private async optimizerStep(run: Run, epoch: number, micros: number[][], m: number): Promise<number> {
    const o = this.options, loop = run.loop, gas = this.args.gradient_accumulation_steps;
    await this.callbacks.call("onStepBegin");
    // The epoch's remainder makes a short last step.
    const group = micros.slice(m, Math.min(m + gas, micros.length));
    const collateOpts = { padId: this.padId, tokenTypes: familyOf(o.model.config).tokenTypes, labels: o.labels };
    const batches: Batch[] = group.map((idx, j) => {
      const examples = idx.map((i) => o.train[i]);
      const rewritten = o.transformBatch ? o.transformBatch(examples, { epoch, micro: m + j, indices: idx }) : examples;
      return collate(rewritten, collateOpts);
    });
    const lr = learningRate(run.schedule, loop.global_step);
    let loss: number;
    if (gas === 1) ({ loss, gradNorm: loop.grad_norm } = await run.step.step(batches[0].feeds, lr));
    else {
      const total = batches.reduce((s, b) => s + b.count, 0);
      loss = 0;
      for (const b of batches) loss += (await run.step.accumulate(b.feeds, b.count / total)).loss * (b.count / total);
      loop.grad_norm = (await run.step.applyStep(lr)).gradNorm;
    }
    m += group.length;
    loop.global_step++;
    loop.epoch = epoch + m / micros.length;
    loop.epoch_index = epoch;
    loop.next_micro = m;
    loop.loss_since_log += loss;
    loop.steps_since_log++;
    if (loop.total_loss !== undefined) loop.total_loss += loss;
    run.lossSum += loss;
    run.steps++;
    run.lastLoss = loss;
    return m;
  }

  /** transformers' DefaultFlowCallback: log, evaluate and save as the strategies say (callbacks may add more). */
  private scheduleFlow(endOfEpoch: boolean): void {
    const a = this.args, c = this.callbacks.control, step = this.run!.loop.global_step;
    if (step % a.logging_steps === 0 || step === this.run!.loop.total_steps) c.shouldLog = true;
    const evalNow = a.eval_strategy === "steps" ? step % (a.eval_steps ?? 1) === 0
      : a.eval_strategy === "epoch" && endOfEpoch;
    const saveNow = a.save_strategy === "steps" ? step % a.save_steps === 0 : a.save_strategy === "epoch" && endOfEpoch;
    if (evalNow) c.shouldEvaluate = true;
    if (saveNow) c.shouldSave = true;
  }

  private async logSaveEvaluate(run: Run): Promise<void> {
    const c = this.callbacks.control, loop = run.loop;
    if (c.shouldLog) await this.logTrain(run);
    const improved = c.shouldEvaluate && run.evaluator ? await this.evaluateOnSchedule(run) : false;
    const save = c.shouldSave || (this.args.save_strategy === "best" && improved);
    c.shouldLog = c.shouldEvaluate = c.shouldSave = false;
    // Only a saved evaluation can be the best checkpoint (rotation keeps it, the end reloads it).
    if (improved && save) loop.best_model_checkpoint = join(this.args.output_dir, `checkpoint-${loop.global_step}`);
    if (save || this.stopReason) await this.checkpoint(run);
  }

  private async logTrain(run: Run): Promise<void> {
    const loop = run.loop;
    const entry = {
      step: loop.global_step,
      epoch: round(loop.epoch, 4),
      loss: loop.loss_since_log / loop.steps_since_log,
      // of the last step, before clipping (as transformers >= 4.38 logs it)
      ...(Number.isFinite(loop.grad_norm) ? { grad_norm: loop.grad_norm } : {}),
      learning_rate: learningRate(run.schedule, loop.global_step), // the rate the next step will use, as Trainer logs it
    };
    loop.loss_since_log = 0;
    loop.steps_since_log = 0;
    await this.logEntry(entry);
  }

  private async logEntry(entry: Record<string, number>): Promise<void> {
    this.run!.loop.log_history.push(entry);
    await this.callbacks.call("onLog", entry);
  }

  /** Evaluate, log, track the best metric and tell the callbacks; returns whether this evaluation is the new best. */
  private async evaluateOnSchedule(run: Run): Promise<boolean> {
    const a = this.args, loop = run.loop, name = a.metric_for_best_model!;
    const metrics = await run.evaluator!.evaluate();
    if (!(name in metrics)) {
      throw new WhetError(`${optionName("metric_for_best_model")} "${name}" is not among the evaluation metrics: ${Object.keys(metrics).join(", ")}`);
    }
    const entry: Record<string, number> = { step: loop.global_step, epoch: round(loop.epoch, 4) };
    for (const [k, v] of Object.entries(metrics)) entry[`eval_${k}`] = v;
    await this.logEntry(entry);
    const v = metrics[name], t = a.early_stopping_threshold;
    const best = loop.best_metric;
    const better = best === null || (a.greater_is_better ? v > best + t : v < best - t);
    if (better) loop.best_metric = v;
    await this.callbacks.call("onEvaluate", metrics);
    return better;
  }

  private async checkpoint(run: Run): Promise<void> {
    const a = this.args, o = this.options, loop = run.loop;
    loop.optimizer_t = run.step.t;
    loop.micro = run.step.micro;
    const dir = join(a.output_dir, `checkpoint-${loop.global_step}`);
    await saveCheckpoint(dir, o.model, run.step, loop, a, { task: this.task(), labels: o.labelNames }, o.tokenizer, o.modelFiles);
    await rotateCheckpoints(a.output_dir, a.save_total_limit, loop.best_model_checkpoint);
    await this.callbacks.call("onSave", dir);
  }

  /** The end of a run that was not interrupted: the best model back, a last evaluation, the final save. */
  private async finish(run: Run, stoppedEarly: boolean): Promise<TrainResult> {
    const a = this.args, loop = run.loop;
    if (a.load_best_model_at_end && loop.best_model_checkpoint) {
      await loadCheckpoint(loop.best_model_checkpoint, this.options.model, run.step, this.options.modelFiles);
      this.write(`loaded the best model from ${loop.best_model_checkpoint} (${a.metric_for_best_model} = ${loop.best_metric})`);
    }
    const metrics = run.evaluator ? await run.evaluator.evaluate() : {};
    loop.finished = true;
    await this.saveFinal(loop, metrics);
    await this.callbacks.call("onTrainEnd");
    return this.result(run, metrics, stoppedEarly, false);
  }

  private result(run: Run, metrics: Record<string, number>, stoppedEarly: boolean, interrupted: boolean): TrainResult {
    // The whole run's mean, steps before a resume included; an old checkpoint: this session's steps.
    const loop = run.loop;
    const trainLoss = loop.total_loss !== undefined && loop.global_step > 0
      ? loop.total_loss / loop.global_step : run.lossSum / Math.max(1, run.steps);
    return { globalStep: run.loop.global_step, trainLoss, metrics, stoppedEarly, interrupted };
  }

  private async saveFinal(loop: LoopState, metrics: Record<string, number>): Promise<void> {
    const dir = this.args.output_dir;
    await this.saveModel(dir);
    await writeTextAtomic(join(dir, "trainer_state.json"), JSON.stringify(loop, null, 1));
    await writeTextAtomic(join(dir, "eval_results.json"), JSON.stringify(metrics, null, 1));
  }

  private resumePath(): string | null {
    const r = this.args.resume_from_checkpoint;
    if (r === undefined || r === false) return null;
    if (r === true) {
      const all = listCheckpoints(this.args.output_dir);
      if (all.length === 0) throw new WhetError(`${optionName("resume_from_checkpoint")}: no checkpoint-N folder in ${this.args.output_dir}`);
      return all[all.length - 1];
    }
    if (!existsSync(r)) throw new WhetError(`${optionName("resume_from_checkpoint")}: ${r} does not exist`);
    return r;
  }

  private async prepareOutputDir(): Promise<void> {
    const a = this.args, dir = a.output_dir;
    const finished = existsSync(join(dir, "trainer_state.json"))
      && (existsSync(join(dir, "model.safetensors")) || existsSync(join(dir, "adapter_model.safetensors")));
    if (finished && !a.overwrite_output_dir && !a.resume_from_checkpoint) {
      throw new WhetError(`${optionName("output_dir")} ${dir} holds a finished run: pass ${optionSetting("overwrite_output_dir", true)} to replace it`);
    }
    await mkdir(dir, { recursive: true });
    const cleaned = await cleanCheckpointLeftovers(dir);
    if (cleaned.length) this.write(`removed what an interrupted run left: ${cleaned.join(", ")}`);
  }
}

export const WHET_VERSION = "0.1.0";

/** The pad id: given, else the tokenizer's pad token, else the model config's pad_token_id. */
export function resolvePadId(o: TrainerOptions): number {
  const id = o.padId ?? o.tokenizer?.padTokenId ?? o.model.config.pad_token_id;
  if (id === undefined || id === null) {
    throw new WhetError("Trainer: cannot pad batches: " + (o.tokenizer ? "the tokenizer has no pad token" : "no tokenizer was given") +
      " and the model's config has no pad_token_id; set pad_token in tokenizer_config.json or pass padId");
  }
  if (!Number.isInteger(id) || id < 0) throw new WhetError(`Trainer: the pad id must be a non-negative integer, got ${id}`);
  return id;
}

/** A one-example prediction of the task's shape: enough to learn which metric names exist. */
function dummyPrediction(kind: LabelKind, e: Example): EvalPrediction {
  const C = kind === "multi_label" ? (e.label as number[]).length : kind === "regression" || kind === "masked_token" ? 1 : 2;
  const rows = kind === "token" ? e.input_ids.length : 1;
  const label = kind === "multi_label" ? e.label! : kind === "token" ? new Array<number>(rows).fill(0) : kind === "masked_token" ? [0] : 0;
  return { logits: [new Float32Array(rows * C)], labels: [label], kind, numLabels: C };
}

export type { NDArray };
