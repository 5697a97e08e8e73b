import { Command, Option } from "commander";
import { defaultDirection, runFinetuneSearch } from "../hpo/finetune_search.js";
import { runCommandSearch, studySummary, type SearchOptions } from "../hpo/search_workflow.js";
import { SearchUsageError } from "../hpo/space_file.js";
import { StorageUrlError } from "../hpo/storage_url.js";
import { readRunConfig } from "./args_options.js";

const positiveInt = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new SearchUsageError(`${flag} must be a positive integer, got "${v}"`);
  return n;
};
const positive = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!(n > 0)) throw new SearchUsageError(`${flag} must be a positive number, got "${v}"`);
  return n;
};

/**
 * `whet search`: a hyperparameter search in Optuna's storage. Exit codes: 0 done, 1 a trial or the
 * storage failed, 2 a usage error (flags, the space file, a study of the other direction).
 */
export function searchCommand(): Command {
  return new Command("search")
    .description("hyperparameter search (TPE, random, grid) in Optuna's own storage; workers may share a study")
    .option("--storage <url>", "sqlite:///study.db or postgresql://user:pass@host:5432/db", "sqlite:///whet-search.db")
    .option("--study-name <name>", "study to create or join", "whet-search")
    .addOption(new Option("--direction <dir>", "default: minimize for a command; for fine-tuning by --metric")
      .choices(["minimize", "maximize"]))
    .option("--space <file>", "search space (YAML, Optuna-style): name: {type: float|int|categorical, …}")
    .option("--objective-command <cmd>", "run CMD per trial: parameters as JSON on stdin, objective on the last stdout line")
    .option("--config <file>", "fine-tuning: the run config every trial starts from (as whet train --config)")
    .option("--model <dir-or-id>", "fine-tuning: starting model (overrides the config)")
    .option("--train-file <file>", "fine-tuning: training data (overrides the config)")
    .option("--validation-file <file>", "fine-tuning: evaluation data (overrides the config)")
    .option("--metric <name>", "fine-tuning: metric to optimise (eval_accuracy, eval_f1, eval_loss…)", "eval_loss")
    .option("--keep-trials", "fine-tuning: keep every trial's folder, not only OUTPUT/best", false)
    .option("--n-trials <n>", "trials this worker runs (each worker of a study runs its own)", positiveInt("--n-trials"))
    .option("--timeout <seconds>", "start no trial after this many seconds", positive("--timeout"))
    .addOption(new Option("--sampler <name>", "sampler").choices(["tpe", "random", "grid"]).default("tpe"))
    .addOption(new Option("--pruner <name>", "pruner (Optuna's defaults)").choices(["median", "successive-halving", "hyperband", "none"]).default("median"))
    .option("--seed <n>", "sampler seed (reproducible searches)", Number)
    .option("--output-dir <dir>", "a folder per trial: DIR/trial-N (a command gets it as WHET_TRIAL_DIR); the best run in DIR/best")
    .option("--catch", "record a failing trial as FAIL and go on (default: stop the search)", false)
    .option("--heartbeat-interval <seconds>", "heartbeat of running trials, so a dead worker's trial becomes FAIL", positive("--heartbeat-interval"))
    .option("--grace-period <seconds>", "seconds without a heartbeat before FAIL (default 2 x interval)", positive("--grace-period"))
    .option("--retry-failed <n>", "re-run a dead worker's trial up to n times", positiveInt("--retry-failed"))
    .option("--summary", "print the study's best trial, trials and parameter importances; run nothing", false)
    .action(async (o) => {
      try {
        if (o.summary) {
          console.log(await studySummary(o.storage, o.studyName));
          return;
        }
        const fineTuning = o.objectiveCommand === undefined;
        const direction = o.direction ?? (fineTuning ? defaultDirection(o.metric) : "minimize");
        const opts: SearchOptions = {
          storage: o.storage, studyName: o.studyName, direction, nTrials: o.nTrials, timeout: o.timeout,
          sampler: o.sampler, pruner: o.pruner, seed: o.seed, spaceFile: o.space, objectiveCommand: o.objectiveCommand,
          outputDir: o.outputDir, catchErrors: o.catch, heartbeatInterval: o.heartbeatInterval, gracePeriod: o.gracePeriod,
          maxRetry: o.retryFailed,
        };
        if (opts.nTrials === undefined && opts.timeout === undefined) throw new SearchUsageError("give --n-trials N or --timeout SECONDS");
        const { study, summary } = fineTuning
          ? await runFinetuneSearch({ ...opts, base: baseConfig(o), metric: o.metric, keepTrials: o.keepTrials })
          : await runCommandSearch(opts);
        await study.storage.close();
        console.log(summary);
      } catch (e) {
        if (!(e instanceof SearchUsageError || e instanceof StorageUrlError) && !isDirectionMismatch(e)) throw e;
        console.error(`whet search: ${(e as Error).message}`);
        process.exit(2);
      }
    });
}

/** --config plus the data flags: what every fine-tuning trial starts from. */
function baseConfig(o: Record<string, string | undefined>): Record<string, unknown> {
  const base: Record<string, unknown> = o.config ? readRunConfig(o.config) : {};
  for (const [flag, key] of [["model", "model"], ["trainFile", "train_file"], ["validationFile", "validation_file"], ["outputDir", "output_dir"]]) {
    if (o[flag] !== undefined) base[key] = o[flag];
  }
  return base;
}

function isDirectionMismatch(e: unknown): boolean {
  return e instanceof Error && /was created to .*, not to/.test(e.message);
}
