import { existsSync } from "node:fs";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { Rng } from "../core/rng.js";
import type { Tensor } from "../graph/tensor.js";
import { numLabels } from "../io/config.js";
import { writeTextAtomic } from "../io/files.js";
import { FAMILIES, type Task, type TaskModel } from "../models/auto.js";
import { learningRate, type ScheduleOptions } from "../optim/schedule.js";
import { TrainStep, type InputDecl } from "../optim/train_step.js";
import { scheduleLength, type TrainingArguments } from "./arguments.js";
import { cleanCheckpointLeftovers, listCheckpoints, loadCheckpoint, rotateCheckpoints, saveCheckpoint, type Saveable, type TrainerState } from "./checkpoint.js";
import { batchInputs, collate, type Example, type LabelKind } from "./collate.js";
import { Evaluator, standardMetrics, type EvalPrediction, type MetricsFn } from "./evaluator.js";
import { ProgressLine } from "./progress.js";
import { add, mul } from "../ops/elementwise.js";
import { distillationLoss, type DistillOptions } from "./distill.js";
import { balancedClassWeights, taskLoss } from "./task_loss.js";

export interface TrainerOptions {
  model: TaskModel;
  args: TrainingArguments;
  train: readonly Example[];
  eval?: readonly Example[];
  labels: LabelKind;
  /** Label names in id order (written into config.json). */
  labelNames?: readonly string[];
  padId: number;
  computeMetrics?: MetricsFn;
  tokenizer?: Saveable;
  /** Where progress lines go (default: stderr). */
  log?: (line: string) => void;
  /** Recorded in run.json: data file hashes, the command line, versions. */
  runInfo?: Record<string, unknown>;
  /**
   * Rewrites each training micro-batch just before collation (masked-LM masking, drawn anew each
   * epoch). `indices` are the examples' positions in `train`; the result must depend only on the
   * examples and the key, so a resumed run repeats an uninterrupted one.
   */
  transformBatch?: (examples: readonly Example[], key: { epoch: number; micro: number; indices: readonly number[] }) => Example[];
  /** The head saved into config.json's "architectures" (default: from `labels`; "masked-lm" when pretraining). */
  task?: Task;
  /** Knowledge distillation: every training example carries its teacher's logits (`Example.teacher`). */
  distillation?: DistillOptions;
}

export interface TrainResult {
  globalStep: number;
  trainLoss: number;
  metrics: Record<string, number>;
  stoppedEarly: boolean;
  interrupted: boolean;
}

/**
 * The fine-tuning loop of transformers' Trainer: schedules, accumulation, evaluation and saving on
 * schedule, best-model tracking, early stopping, and checkpoints that resume bit for bit.
 */
export class Trainer {
  private readonly a: TrainingArguments;
  private log: (line: string) => void;
  private stopSignal: string | null = null;

  constructor(private readonly o: TrainerOptions) {
    this.a = o.args;
    this.log = o.log ?? ((l) => process.stderr.write(l + "\n"));
    if (o.train.length === 0) throw new WhetError("training: the training set is empty");
    if (o.distillation) {
      const { alpha, temperature } = o.distillation;
      if (!(alpha >= 0 && alpha <= 1)) throw new WhetError(`distillation: alpha must be in [0, 1], got ${alpha}`);
      if (!(temperature > 0)) throw new WhetError(`distillation: temperature must be positive, got ${temperature}`);
      if (o.labels !== "class") throw new WhetError("distillation: only single-label sequence classification is supported so far");
      if (o.train.some((e) => !e.teacher)) throw new WhetError("distillation: every training example needs its teacher's logits (see teacherLogits())");
    }
  }

  /** Stop after the current step with a checkpoint, as SIGINT / SIGTERM do. */
  requestStop(reason = "stop requested"): void {
    this.stopSignal ??= reason;
  }

  private task(): Task {
    if (this.o.task) return this.o.task;
    return this.o.labels === "token" ? "token-classification" : this.o.labels === "masked_token" ? "masked-lm" : "sequence-classification";
  }

  /** The order of example indices for an epoch: a pure function of (data_seed, epoch). */
  epochOrder(epoch: number): number[] {
    const n = this.o.train.length;
    if (this.a.train_sampling === "sequential") return Array.from({ length: n }, (_, i) => i);
    const perm = new Rng(this.a.data_seed ?? this.a.seed, epoch, 0x6f72646572).permutation(n);
    if (this.a.train_sampling === "random") return perm;
    // group_by_length: sort shuffled mega-batches by length (as transformers' LengthGroupedSampler),
    // then put the mega-batch holding the longest example first so memory peaks at once.
    const mega = this.a.per_device_train_batch_size * 50;
    const groups: number[][] = [];
    for (let i = 0; i < n; i += mega) groups.push(perm.slice(i, i + mega).sort((x, y) => this.o.train[y].input_ids.length - this.o.train[x].input_ids.length));
    return groups.flat();
  }

  private inputs(): InputDecl[] {
    const c = this.o.model.config;
    return batchInputs({ tokenTypes: FAMILIES[c.model_type].tokenTypes, labels: this.o.labels, numLabels: numLabels(c), teacher: !!this.o.distillation });
  }

  private classWeights(): number[] | undefined {
    const cw = this.a.class_weights;
    if (cw === undefined) return undefined;
    const k = Number(Object.keys(this.o.model.config.id2label ?? {}).length || this.o.model.config.num_labels || 2);
    if (cw === "balanced") return balancedClassWeights(this.o.train.flatMap((e) => (Array.isArray(e.label) ? e.label : [e.label as number])).filter((l) => l !== -100), k);
    if (cw.length !== k) throw new WhetError(`class_weights has ${cw.length} values but the model has ${k} labels`);
    return cw;
  }

  async train(): Promise<TrainResult> {
    const a = this.a, o = this.o;
    await this.prepareOutputDir();
    const { totalSteps, warmupSteps, epochs } = scheduleLength(a, o.train.length);
    const sched: ScheduleOptions = { type: a.lr_scheduler_type, lr: a.learning_rate, warmupSteps, totalSteps };
    const gas = a.gradient_accumulation_steps;
    const weights = this.classWeights();
    const step = await TrainStep.compile({
      inputs: this.inputs(),
      forward: (x) => {
        const out = o.model.forward({ input_ids: x.input_ids, attention_mask: x.attention_mask, token_type_ids: x.token_type_ids, masked_positions: x.masked_positions });
        const hard = taskLoss(out.logits, x.labels as Tensor, o.labels, { classWeights: weights, labelSmoothing: a.label_smoothing_factor });
        const d = o.distillation;
        // (1 - alpha) · label loss + alpha · T²-scaled KL to the teacher's softened distribution.
        return { loss: d ? add(mul(hard, 1 - d.alpha), mul(distillationLoss(out.logits, x.teacher_logits as Tensor, d.temperature), d.alpha)) : hard };
      },
      params: o.model.parameters(),
      weightDecay: a.weight_decay,
      adam: { beta1: a.adam_beta1, beta2: a.adam_beta2, eps: a.adam_epsilon },
      maxGradNorm: a.max_grad_norm > 0 ? a.max_grad_norm : null,
      seed: a.seed,
      threads: a.threads,
      accumulation: gas > 1,
    });
    const evaluator = o.eval && o.eval.length > 0 && a.eval_strategy !== "no" ? await Evaluator.create(this.evaluatorOptions(weights)) : null;
    if (a.eval_strategy !== "no" && !evaluator) throw new WhetError(`eval_strategy is "${a.eval_strategy}" but there is no evaluation data: give a validation set or set eval_strategy to no`);
    if (evaluator && !o.computeMetrics) {
      // Known before any work: a best-model metric the evaluation will not produce is an error now.
      const names = ["loss", ...(o.labels === "masked_token" ? ["perplexity"] : []), ...Object.keys(standardMetrics(dummyPrediction(o.labels, o.eval![0]), o.model.config.id2label))];
      if (!names.includes(a.metric_for_best_model!)) {
        throw new WhetError(`metric_for_best_model "${a.metric_for_best_model}" is not computed for this task; the metrics are: ${names.join(", ")}`);
      }
    }
    let state: TrainerState = {
      global_step: 0, epoch: 0, epoch_index: 0, next_micro: 0, optimizer_t: 0, micro: 0, total_steps: totalSteps,
      log_history: [], best_metric: null, best_model_checkpoint: null, evals_without_improvement: 0,
      loss_since_log: 0, steps_since_log: 0, finished: false,
    };
    const resume = this.resumePath();
    if (resume) {
      state = await loadCheckpoint(resume, o.model, step);
      this.log(`resumed from ${resume} at step ${state.global_step}`);
    }
    const handlers = this.installSignalHandlers();
    const progress = o.log ? null : new ProgressLine(totalSteps);
    progress?.resumeAt(state.global_step);
    const log = this.log;
    this.log = (line) => {
      progress?.clear();
      log(line);
    };
    let trainLossSum = 0, trainSteps = 0, stoppedEarly = false;
    const B = a.per_device_train_batch_size;
    const collateOpts = { padId: o.padId, tokenTypes: FAMILIES[o.model.config.model_type].tokenTypes, labels: o.labels };
    try {
      outer: for (let epoch = state.epoch_index; epoch < epochs; epoch++) {
        const order = this.epochOrder(epoch);
        const micros: number[][] = [];
        for (let i = 0; i < order.length; i += B) micros.push(order.slice(i, i + B));
        let m = epoch === state.epoch_index ? state.next_micro : 0;
        while (m < micros.length && state.global_step < totalSteps) {
          // One optimizer step over up to `gas` micro-batches; the epoch's remainder makes a short last step.
          const group = micros.slice(m, Math.min(m + gas, micros.length));
          const batches = group.map((idx, j) => {
            const examples = idx.map((i) => o.train[i]);
            return collate(o.transformBatch ? o.transformBatch(examples, { epoch, micro: m + j, indices: idx }) : examples, collateOpts);
          });
          const lr = learningRate(sched, state.global_step);
          let loss: number;
          if (gas === 1) loss = (await step.step(batches[0].feeds, lr)).loss;
          else {
            const total = batches.reduce((s, b) => s + b.count, 0);
            loss = 0;
            for (const b of batches) loss += (await step.accumulate(b.feeds, b.count / total)).loss * (b.count / total);
            await step.applyStep(lr);
          }
          m += group.length;
          state.global_step++;
          state.epoch = epoch + m / micros.length;
          state.epoch_index = epoch;
          state.next_micro = m;
          state.loss_since_log += loss;
          state.steps_since_log++;
          trainLossSum += loss;
          trainSteps++;
          progress?.update(state.global_step, loss, learningRate(sched, state.global_step));
          if (state.global_step % a.logging_steps === 0 || state.global_step === totalSteps) await this.logTrain(state, sched);
          const endOfEpoch = m >= micros.length;
          const evalNow = a.eval_strategy === "steps" ? state.global_step % (a.eval_steps ?? 1) === 0 : a.eval_strategy === "epoch" && endOfEpoch;
          let improved = false;
          if (evaluator && evalNow) {
            const metrics = await evaluator.evaluate();
            improved = await this.recordEval(state, metrics);
            if (a.early_stopping_patience !== undefined && state.evals_without_improvement >= a.early_stopping_patience) stoppedEarly = true;
          }
          const saveNow = a.save_strategy === "steps" ? state.global_step % a.save_steps === 0
            : a.save_strategy === "epoch" ? endOfEpoch : a.save_strategy === "best" ? improved : false;
          if (endOfEpoch) {
            state.epoch_index = epoch + 1;
            state.next_micro = 0;
          }
          // Only a saved evaluation can be the best checkpoint (rotation keeps it, the end reloads it).
          if (improved && saveNow) state.best_model_checkpoint = join(a.output_dir, `checkpoint-${state.global_step}`);
          if (saveNow || this.stopSignal) await this.checkpoint(state, step, improved);
          if (this.stopSignal) {
            this.log(`${this.stopSignal}: saved checkpoint-${state.global_step}, stopping`);
            return { globalStep: state.global_step, trainLoss: trainLossSum / Math.max(1, trainSteps), metrics: {}, stoppedEarly, interrupted: true };
          }
          if (stoppedEarly) {
            this.log(`early stopping: ${a.metric_for_best_model} did not improve for ${a.early_stopping_patience} evaluations`);
            break outer;
          }
        }
        if (state.global_step >= totalSteps) break;
      }
      if (a.load_best_model_at_end && state.best_model_checkpoint) {
        await loadCheckpoint(state.best_model_checkpoint, o.model, step);
        this.log(`loaded the best model from ${state.best_model_checkpoint} (${a.metric_for_best_model} = ${state.best_metric})`);
      }
      const metrics = evaluator ? await evaluator.evaluate() : {};
      state.finished = true;
      await this.saveFinal(state, metrics);
      return { globalStep: state.global_step, trainLoss: trainLossSum / Math.max(1, trainSteps), metrics, stoppedEarly, interrupted: false };
    } finally {
      progress?.finish();
      this.log = log;
      handlers();
      await step.release();
      await evaluator?.release();
    }
  }

  private evaluatorOptions(weights?: number[]) {
    const o = this.o;
    return {
      model: o.model, examples: o.eval!, labels: o.labels, padId: o.padId, batchSize: this.a.per_device_eval_batch_size,
      threads: this.a.threads, computeMetrics: o.computeMetrics, classWeights: weights,
    };
  }

  private async logTrain(state: TrainerState, sched: ScheduleOptions): Promise<void> {
    const entry = {
      step: state.global_step,
      epoch: round(state.epoch, 4),
      loss: state.loss_since_log / state.steps_since_log,
      learning_rate: learningRate(sched, state.global_step), // the rate the next step will use, as Trainer logs it
    };
    state.loss_since_log = 0;
    state.steps_since_log = 0;
    state.log_history.push(entry);
    await appendFile(join(this.a.output_dir, "trainer_log.jsonl"), JSON.stringify(entry) + "\n");
    this.log(`step ${entry.step}/${state.total_steps}  epoch ${entry.epoch.toFixed(2)}  loss ${entry.loss.toFixed(4)}  lr ${entry.learning_rate.toExponential(2)}`);
  }

  /** Log an evaluation and track the best metric; returns whether this evaluation is the new best. */
  private async recordEval(state: TrainerState, metrics: Record<string, number>): Promise<boolean> {
    const name = this.a.metric_for_best_model!;
    if (!(name in metrics)) {
      throw new WhetError(`metric_for_best_model "${name}" is not among the evaluation metrics: ${Object.keys(metrics).join(", ")}`);
    }
    const entry: Record<string, number> = { step: state.global_step, epoch: round(state.epoch, 4) };
    for (const [k, v] of Object.entries(metrics)) entry[`eval_${k}`] = v;
    state.log_history.push(entry);
    await appendFile(join(this.a.output_dir, "trainer_log.jsonl"), JSON.stringify(entry) + "\n");
    this.log(`eval at step ${state.global_step}: ${Object.entries(metrics).map(([k, v]) => `${k} ${round(v, 4)}`).join("  ")}`);
    const v = metrics[name];
    const better = state.best_metric === null || (this.a.greater_is_better
      ? v > state.best_metric + this.a.early_stopping_threshold
      : v < state.best_metric - this.a.early_stopping_threshold);
    if (better) {
      state.best_metric = v;
      state.evals_without_improvement = 0;
    } else state.evals_without_improvement++;
    return better;
  }

  private async checkpoint(state: TrainerState, step: TrainStep, improved: boolean): Promise<void> {
    void improved;
    state.optimizer_t = step.t;
    state.micro = step.micro;
    const dir = join(this.a.output_dir, `checkpoint-${state.global_step}`);
    await saveCheckpoint(dir, this.o.model, step, state, this.a, { task: this.task(), labels: this.o.labelNames }, this.o.tokenizer);
    await rotateCheckpoints(this.a.output_dir, this.a.save_total_limit, state.best_model_checkpoint);
  }

  private async saveFinal(state: TrainerState, metrics: Record<string, number>): Promise<void> {
    const { saveModel } = await import("../models/save.js");
    await saveModel(this.o.model, this.a.output_dir, { task: this.task(), labels: this.o.labelNames });
    if (this.o.tokenizer) await this.o.tokenizer.save(this.a.output_dir);
    await writeTextAtomic(join(this.a.output_dir, "trainer_state.json"), JSON.stringify(state, null, 1));
    await writeTextAtomic(join(this.a.output_dir, "eval_results.json"), JSON.stringify(metrics, null, 1));
  }

  private resumePath(): string | null {
    const r = this.a.resume_from_checkpoint;
    if (r === undefined || r === false) return null;
    if (r === true) {
      const all = listCheckpoints(this.a.output_dir);
      if (all.length === 0) throw new WhetError(`resume_from_checkpoint: no checkpoint-N folder in ${this.a.output_dir}`);
      return all[all.length - 1];
    }
    if (!existsSync(r)) throw new WhetError(`resume_from_checkpoint: ${r} does not exist`);
    return r;
  }

  private async prepareOutputDir(): Promise<void> {
    const dir = this.a.output_dir;
    const finished = existsSync(join(dir, "trainer_state.json")) && existsSync(join(dir, "model.safetensors"));
    if (finished && !this.a.overwrite_output_dir && !this.a.resume_from_checkpoint) {
      throw new WhetError(`output_dir ${dir} holds a finished run: pass overwrite_output_dir (--overwrite-output-dir) to replace it`);
    }
    await mkdir(dir, { recursive: true });
    const cleaned = await cleanCheckpointLeftovers(dir);
    if (cleaned.length) this.log(`removed what an interrupted run left: ${cleaned.join(", ")}`);
    if (!this.a.resume_from_checkpoint) await writeFile(join(dir, "trainer_log.jsonl"), "");
    const run = { args: this.a, whet_version: WHET_VERSION, node: process.version, started: new Date().toISOString(), ...this.o.runInfo };
    await writeTextAtomic(join(dir, "run.json"), JSON.stringify(run, null, 1));
  }

  /** SIGINT / SIGTERM finish the current step, save a checkpoint and stop. */
  private installSignalHandlers(): () => void {
    const on = (sig: string) => () => {
      if (this.stopSignal) process.exit(130);
      this.stopSignal = sig;
      this.log(`${sig} received: saving a checkpoint after this step (send again to quit at once)`);
    };
    const hi = on("SIGINT"), ht = on("SIGTERM");
    process.on("SIGINT", hi);
    process.on("SIGTERM", ht);
    return () => {
      process.off("SIGINT", hi);
      process.off("SIGTERM", ht);
    };
  }
}

export const WHET_VERSION = "0.1.0";

/** A one-example prediction of the task's shape: enough to learn which metric names exist. */
function dummyPrediction(kind: LabelKind, e: Example): EvalPrediction {
  const C = kind === "multi_label" ? (e.label as number[]).length : kind === "regression" || kind === "masked_token" ? 1 : 2;
  const rows = kind === "token" ? e.input_ids.length : 1;
  const label = kind === "multi_label" ? e.label! : kind === "token" ? new Array<number>(rows).fill(0) : kind === "masked_token" ? [0] : 0;
  return { logits: [new Float32Array(rows * C)], labels: [label], kind, numLabels: C };
}

function round(v: number, d: number): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

export type { NDArray };
