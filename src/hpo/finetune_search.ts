import { cpSync, existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { WhetError } from "../core/errors.js";
import { finetune } from "../recipes/finetune.js";
import { resolveRunSpec } from "../recipes/run_spec.js";
import { suggestName } from "../train/arguments.js";
import type { TrainerCallback } from "../train/callbacks.js";
import type { Direction, FrozenTrial } from "./frozen_trial.js";
import { makePruner, makeSampler, searchSpace, type SearchOptions } from "./search_workflow.js";
import { SearchUsageError, type SearchSpace } from "./space_file.js";
import type { OptimizeOptions, Study } from "./study.js";
import { createStudy } from "./study_api.js";
import { bestOf, formatSummary } from "./summary.js";
import { TrialPruned, type Trial } from "./trial.js";

export interface FinetuneSearchOptions extends Omit<SearchOptions, "objectiveCommand" | "outputDir"> {
  /** the flat run config (data keys and TrainingArguments) every trial starts from */
  base: Record<string, unknown>;
  /** the metric to optimise, with or without the eval_ prefix (eval_accuracy, f1, loss) */
  metric: string;
  /** keep every trial's folder, not only the best one's */
  keepTrials?: boolean;
  log?: (line: string) => void;
  /** called after each of this worker's trials, as Optuna's optimize(callbacks=...) */
  callbacks?: OptimizeOptions["callbacks"];
}

const LOWER_IS_BETTER = /(^|_)(loss|mse|mae|rmse|perplexity)$/;

/** maximize, unless the metric is a loss or an error. */
export function defaultDirection(metric: string): Direction {
  return LOWER_IS_BETTER.test(metric.replace(/^eval_/, "")) ? "minimize" : "maximize";
}

/**
 * Trainer.hyperparameter_search with the finetune recipe: each trial is a full run in
 * OUTPUT/trial-N (the space's values over the base config), its evaluations are reported as
 * intermediate values at their global step and the pruner may stop it (PRUNED); at the end the
 * best trial's run is copied to OUTPUT/best and the other trial folders of this worker are
 * removed unless `keepTrials`. OUTPUT/study.json holds the search history for `whet report`.
 */
export async function runFinetuneSearch(opts: FinetuneSearchOptions): Promise<{ study: Study; summary: string }> {
  const space = searchSpace({ spaceFile: opts.spaceFile });
  const output = opts.base.output_dir;
  if (typeof output !== "string" || output === "")
    throw new SearchUsageError("a fine-tuning search needs --output-dir (or output_dir in --config)");
  // a bad base config fails before any trial
  resolveRunSpec({ ...opts.base, output_dir: join(output, "check") }, "search");
  const study = await createStudy({
    storage: opts.storage, studyName: opts.studyName, direction: opts.direction, loadIfExists: true,
    sampler: makeSampler(opts.sampler, space, opts.seed), pruner: makePruner(opts.pruner),
    heartbeatInterval: opts.heartbeatInterval, gracePeriod: opts.gracePeriod, maxRetry: opts.maxRetry,
  });
  const mine: number[] = [];
  const objective = async (trial: Trial): Promise<number> => {
    mine.push(trial.number);
    return runTrial(trial, space, resolve(output), opts);
  };
  await study.optimize(objective, {
    nTrials: opts.nTrials, timeout: opts.timeout, catch: opts.catchErrors, callbacks: opts.callbacks,
  });
  const trials = await study.trials();
  keepBest(resolve(output), trials, study.directions, mine, opts.keepTrials ?? false);
  writeHistory(resolve(output), opts.metric, study.directions[0], trials);
  return { study, summary: formatSummary(study.studyName, study.directions, trials) };
}

async function runTrial(trial: Trial, space: SearchSpace, output: string,
  opts: FinetuneSearchOptions): Promise<number> {
  const params: Record<string, unknown> = {};
  for (const [name, dist] of Object.entries(space)) params[name] = await trial.suggest(name, dist);
  const dir = join(output, `trial-${trial.number}`);
  await trial.setUserAttr("run_dir", dir);
  const spec = resolveRunSpec({ ...opts.base, ...params, output_dir: dir, overwrite_output_dir: true },
    `search trial ${trial.number}`);
  const key = opts.metric.replace(/^eval_/, "");
  let pruned = false;
  const pruning: TrainerCallback = {
    async onEvaluate(state, control, metrics) {
      if (!(key in metrics)) return;
      await trial.report(metrics[key], state.globalStep);
      if (await trial.shouldPrune()) {
        pruned = true;
        control.shouldTrainingStop = true;
      }
    },
  };
  const result = await finetune(spec, { callbacks: [pruning], log: opts.log,
    runInfo: { search: { trial: trial.number, params } } });
  await trial.setUserAttr("metrics", result.metrics);
  if (pruned) throw new TrialPruned(`trial ${trial.number} pruned at step ${result.globalStep}`);
  const value = result.metrics[key];
  if (value === undefined) {
    const names = Object.keys(result.metrics);
    const hint = suggestName(key, names);
    throw new WhetError(`--metric ${opts.metric}: ${hint ? `did you mean eval_${hint}? ` : ""}the run computed ` +
      (names.map((m) => `eval_${m}`).join(", ") || "no evaluation metrics (give a --validation-file or a validation " +
        "split)"));
  }
  return value;
}

function keepBest(output: string, trials: FrozenTrial[], directions: Direction[], mine: number[],
  keepAll: boolean): void {
  const best = bestOf(trials, directions);
  const bestDir = best === null ? null : join(output, `trial-${best.number}`);
  if (bestDir !== null && existsSync(bestDir)) {
    const tmp = join(output, `.best-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    cpSync(bestDir, tmp, { recursive: true });
    rmSync(join(output, "best"), { recursive: true, force: true });
    renameSync(tmp, join(output, "best"));
  }
  if (keepAll) return;
  for (const n of mine) rmSync(join(output, `trial-${n}`), { recursive: true, force: true });
}

function writeHistory(output: string, metric: string, direction: Direction, trials: FrozenTrial[]): void {
  const history = JSON.stringify({ direction, metric, trials: trials.map((t) => ({
    number: t.number, value: t.values?.[0] ?? null, state: t.state, params: t.params })) }, null, 1);
  for (const dir of [output, join(output, "best")]) {
    if (!existsSync(dir)) continue;
    const tmp = join(dir, `.study.json.${process.pid}`);
    writeFileSync(tmp, history);
    renameSync(tmp, join(dir, "study.json"));
  }
}
