import { existsSync, readdirSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { WhetError } from "../core/errors.js";
import { writeTextAtomic } from "../io/files.js";
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
  /**
   * Sum of every optimizer step's loss since step 0, carried across resumes, so train_loss is
   * the mean over the whole run. Absent in checkpoints written before it existed.
   */
  total_loss?: number;
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
 * Marks a checkpoint folder as complete; written last, after every other file is on disk, so a
 * folder that lacks it (a kill mid-save, a full disk) is never taken for a checkpoint.
 */
export const COMPLETE_MARKER = ".whet-checkpoint-complete";

/**
 * Write a resumable checkpoint: weights, AdamW moments, trainer state and arguments. It is built
 * in a temporary folder, completed by COMPLETE_MARKER and renamed into place, so a kill at any
 * moment leaves the previous checkpoint (and any older one) intact; `cleanCheckpointLeftovers`
 * removes what a kill left behind.
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
  await writeTextAtomic(join(tmp, "trainer_state.json"), JSON.stringify(state, null, 1));
  await writeTextAtomic(join(tmp, "training_args.json"), JSON.stringify(args, null, 1));
  if (tokenizer) await tokenizer.save(tmp);
  await writeTextAtomic(join(tmp, COMPLETE_MARKER), JSON.stringify({ global_step: state.global_step, files: await readdir(tmp) }) + "\n");
  if (existsSync(dir)) {
    const old = join(dirname(dir), `.${basename(dir)}.old-${process.pid}`);
    await rename(dir, old);
    await rename(tmp, dir);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(tmp, dir);
  }
}

/** A checkpoint folder that was completely written (marker), or one of round 1 that has every file. */
export function isCompleteCheckpoint(dir: string): boolean {
  if (existsSync(join(dir, COMPLETE_MARKER))) return true;
  return ["trainer_state.json", "optimizer.safetensors", "training_args.json"].every((f) => existsSync(join(dir, f))) &&
    ["model.safetensors", "model.safetensors.index.json"].some((f) => existsSync(join(dir, f)));
}

/**
 * Removes what killed runs left in `outputDir`: `.checkpoint-N.tmp-PID` folders (a save cut
 * short), `.checkpoint-N.deleting-PID` (a rotation cut short) and `.checkpoint-N.old-PID`, whose
 * owner process is gone. An `.old-` folder whose replacement never arrived is put back. Returns
 * the names removed, for the log.
 */
export async function cleanCheckpointLeftovers(outputDir: string): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(outputDir).catch(() => [] as string[]);
  for (const n of names) {
    const m = /^\.(checkpoint-\d+)\.(tmp|old|deleting)-(\d+)$/.exec(n);
    if (!m || isAlive(Number(m[3]))) continue;
    const [, target, kind] = m;
    const path = join(outputDir, n), final = join(outputDir, target!);
    if (kind === "old" && !existsSync(final) && isCompleteCheckpoint(path)) await rename(path, final);
    else if (kind === "tmp" && !existsSync(final) && existsSync(join(path, COMPLETE_MARKER))) await rename(path, final);
    else {
      await rm(path, { recursive: true, force: true });
      removed.push(n);
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false; // our own leftovers are from an earlier call that failed
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** Restore weights, moments and counters from a checkpoint folder; returns its trainer state. */
export async function loadCheckpoint(dir: string, model: TaskModel, step: TrainStep, files?: ModelFiles): Promise<LoopState> {
  if (!existsSync(join(dir, "trainer_state.json"))) throw new WhetError(`resuming: ${dir} is not a checkpoint (no trainer_state.json)`);
  if (!isCompleteCheckpoint(dir)) throw new WhetError(`resuming: ${dir} was not completely written (no ${COMPLETE_MARKER}); resume from an earlier checkpoint`);
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

/** Complete checkpoint folders of a run, oldest first. */
export function listCheckpoints(outputDir: string): string[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir)
    .filter((n) => /^checkpoint-\d+$/.test(n) && isCompleteCheckpoint(join(outputDir, n)))
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
    // Renamed first: a kill during the delete leaves a hidden leftover, never a checkpoint-N
    // folder that looks usable but is half gone.
    const doomed = join(dirname(dir), `.${basename(dir)}.deleting-${process.pid}`);
    await rename(dir, doomed);
    await rm(doomed, { recursive: true, force: true });
    excess--;
  }
}
