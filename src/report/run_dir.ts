// Everything a training run's output_dir holds that a report shows, read leniently: a file that
// is absent leaves its section out, a file that is there but broken is an error naming it.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import type { BiasCheckResult } from "./bias_check.js";

/** One trial of a hyperparameter search, in the shape Optuna's trials_dataframe gives. */
export interface StudyTrial {
  readonly number: number;
  readonly value?: number | null;
  readonly state?: string;
  readonly params?: Record<string, unknown>;
}

/**
 * The search history a report shows when RUN_DIR/study.json exists: `{ "direction": "maximize",
 * "metric": "eval_f1", "trials": [{ "number": 0, "value": 0.81, "state": "COMPLETE", "params": {…} }] }`.
 * Search tools write it (or pass their own section to the report builder).
 */
export interface StudyHistory {
  readonly direction?: "maximize" | "minimize";
  readonly metric?: string;
  readonly trials: readonly StudyTrial[];
}

export interface RunDir {
  readonly dir: string;
  /** run.json: arguments, command, data files, versions, start time. */
  readonly run?: Record<string, unknown>;
  /** trainer_log.jsonl: training entries (loss, learning_rate, …) and evaluation entries (eval_*). */
  readonly log: readonly Record<string, number>[];
  readonly state?: Record<string, unknown>;
  readonly evalResults?: Record<string, number>;
  readonly dataReport?: Record<string, unknown>;
  readonly config?: Record<string, unknown>;
  readonly bias?: BiasCheckResult & Record<string, unknown>;
  readonly study?: StudyHistory;
  /** Seconds from run.json's start to the last file the run wrote, when both are known. */
  readonly durationSeconds?: number;
}

function readJson<T>(dir: string, name: string): T | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (e) {
    throw new WhetError(`reading ${path}: ${(e as Error).message}`);
  }
}

function readLog(dir: string): Record<string, number>[] {
  const path = join(dir, "trainer_log.jsonl");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").flatMap((line, i) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as Record<string, number>];
    } catch (e) {
      throw new WhetError(`${path}:${i + 1}: ${(e as Error).message}`);
    }
  });
}

/**
 * Read a run folder (whet train's output_dir).
 *
 * @example
 * const run = readRunDir("runs/reviews");
 * run.log.filter((e) => "eval_loss" in e); // the evaluations; run.evalResults: the final metrics
 */
export function readRunDir(dir: string): RunDir {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new WhetError(`report: ${dir} is not a folder`);
  const run = readJson<Record<string, unknown>>(dir, "run.json");
  const log = readLog(dir);
  if (!run && log.length === 0) {
    throw new WhetError(`report: ${dir} has neither run.json nor trainer_log.jsonl: give the output_dir of a training run`);
  }
  const study = readJson<StudyHistory>(dir, "study.json");
  if (study && !Array.isArray(study.trials)) throw new WhetError(`reading ${join(dir, "study.json")}: expected {"trials": [...]}`);
  const ends = ["trainer_state.json", "eval_results.json", "trainer_log.jsonl"].map((f) => join(dir,
    f)).filter(existsSync).map((f) => statSync(f).mtimeMs);
  const started = typeof run?.started === "string" ? Date.parse(run.started) : NaN;
  return {
    dir, run, log, study,
    state: readJson(dir, "trainer_state.json"),
    evalResults: readJson(dir, "eval_results.json"),
    dataReport: readJson(dir, "data_report.json"),
    config: readJson(dir, "config.json"),
    bias: readJson(dir, "bias.json"),
    ...(Number.isFinite(started) && ends.length ? { durationSeconds: Math.max(0,
      (Math.max(...ends) - started) / 1000) } : {}),
  };
}
