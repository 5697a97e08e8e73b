import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { WhetError } from "../core/errors.js";
import { readSafetensorsFile, toFloat32, writeSafetensorsFile, type TensorToWrite } from "../io/safetensors.js";
import type { TaskModel } from "../models/auto.js";
import { loadPretrainedWeights } from "../models/pretrained.js";
import { saveModel, type SaveOptions } from "../models/save.js";
import type { TrainStep } from "../optim/train_step.js";

/**
 * Everything besides tensors that a resumed run needs to continue exactly where it stopped
 * (trainer_state.json; callbacks see the camel-case TrainerState of callbacks.ts instead).
 */
export interface LoopState {
  global_step: number;
  /** Fractional epoch, as logged. */
  epoch: number;
  /** The epoch being run and the next micro-batch in its order. */
  epoch_index: number;
  next_micro: number;
  /** TrainStep counters: optimizer steps (bias corrections) and forward passes (dropout masks). */
  optimizer_t: number;
  micro: number;
  total_steps: number;
  log_history: Record<string, number>[];
  best_metric: number | null;
  best_model_checkpoint: string | null;
  loss_since_log: number;
  /** The last step's gradient norm before clipping. */
  grad_norm?: number;
  steps_since_log: number;
  finished: boolean;
}

/** The weights a run saves and restores when they are not the whole model (an adapter's files). */
export interface ModelFiles {
  save(dir: string): Promise<void>;
  load(dir: string): Promise<void>;
}

export interface Saveable {
  save(dir: string): Promise<void> | void;
}

/**
 * Write a resumable checkpoint: weights, AdamW moments, trainer state and arguments. It is built
 * in a temporary folder and renamed into place, so a kill at any moment leaves the previous
 * checkpoint (and any older one) intact.
 */
export async function saveCheckpoint(
  dir: string, model: TaskModel, step: TrainStep, state: LoopState, args: object, save: SaveOptions, tokenizer?: Saveable, files?: ModelFiles,
): Promise<void> {
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  if (files) await files.save(tmp);
  else await saveModel(model, tmp, save);
  // Every parameter that has optimizer state, trainable now or not (gradual unfreezing changes
  // the set), with its own AdamW step count.
  const moments = new Map<string, TensorToWrite>();
  const shapes = new Map(model.namedParameters().map(([n, p]) => [n, [...p.shape] as number[]]));
  for (const [name, m] of step.m) {
    moments.set(`exp_avg.${name}`, { dtype: "F32", shape: shapes.get(name) ?? [m.length], data: m });
    moments.set(`exp_avg_sq.${name}`, { dtype: "F32", shape: shapes.get(name) ?? [m.length], data: step.v.get(name)! });
  }
  const paramSteps = JSON.stringify(Object.fromEntries(step.paramSteps));
  await writeSafetensorsFile(join(tmp, "optimizer.safetensors"), moments, { step: String(step.t), param_steps: paramSteps });
  await writeFile(join(tmp, "trainer_state.json"), JSON.stringify(state, null, 1));
  await writeFile(join(tmp, "training_args.json"), JSON.stringify(args, null, 1));
  if (tokenizer) await tokenizer.save(tmp);
  if (existsSync(dir)) {
    const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}`);
    await rename(dir, old);
    await rename(tmp, dir);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(tmp, dir);
  }
}

/** Restore weights, moments and counters from a checkpoint folder; returns its trainer state. */
export async function loadCheckpoint(dir: string, model: TaskModel, step: TrainStep, files?: ModelFiles): Promise<LoopState> {
  if (!existsSync(join(dir, "trainer_state.json"))) throw new WhetError(`resuming: ${dir} is not a checkpoint (no trainer_state.json)`);
  const state = JSON.parse(await readFile(join(dir, "trainer_state.json"), "utf8")) as LoopState;
  const report = files ? (await files.load(dir), { initialized: [] }) : await loadPretrainedWeights(model, dir);
  if (report.initialized.length) throw new WhetError(`resuming from ${dir}: the checkpoint lacks ${report.initialized.join(", ")}`);
  const { tensors, metadata } = await readSafetensorsFile(join(dir, "optimizer.safetensors"));
  // Checkpoints from before per-parameter step counts: every stored parameter took every step.
  const steps: Record<string, number> = metadata.param_steps ? JSON.parse(metadata.param_steps) : {};
  const trained = metadata.param_steps ? Object.keys(steps).filter((n) => steps[n] > 0) : step.trainable.map((p) => p.name);
  for (const name of trained) {
    const m = tensors.get(`exp_avg.${name}`), v = tensors.get(`exp_avg_sq.${name}`);
    if (!m || !v) throw new WhetError(`resuming from ${dir}: optimizer.safetensors has no moments for ${name}`);
    step.m.set(name, Float32Array.from(toFloat32(m)));
    step.v.set(name, Float32Array.from(toFloat32(v)));
    step.paramSteps.set(name, steps[name] ?? state.optimizer_t);
  }
  step.t = state.optimizer_t;
  step.micro = state.micro;
  return state;
}

/** Checkpoint folders of a run, oldest first. */
export function listCheckpoints(outputDir: string): string[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir)
    .filter((n) => /^checkpoint-\d+$/.test(n))
    .sort((a, b) => Number(a.slice(11)) - Number(b.slice(11)))
    .map((n) => join(outputDir, n));
}

/** Delete the oldest checkpoints beyond `limit`, never the best one. */
export async function rotateCheckpoints(outputDir: string, limit: number | undefined, best: string | null): Promise<void> {
  if (!limit) return;
  const all = listCheckpoints(outputDir);
  let excess = all.length - limit;
  for (const dir of all) {
    if (excess <= 0) break;
    if (best && dir === best) continue;
    await rm(dir, { recursive: true, force: true });
    excess--;
  }
}
