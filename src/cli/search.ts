import { Command, Option } from "commander";
import { runCommandSearch, studySummary, type SearchOptions } from "../hpo/search.js";
import { SearchUsageError } from "../hpo/space_file.js";
import { StorageUrlError } from "../hpo/storage_url.js";

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
    .addOption(new Option("--direction <dir>", "optimisation direction").choices(["minimize", "maximize"]).default("minimize"))
    .option("--space <file>", "search space (YAML, Optuna-style): name: {type: float|int|categorical, …}")
    .option("--objective-command <cmd>", "run CMD per trial: parameters as JSON on stdin, objective on the last stdout line")
    .option("--n-trials <n>", "trials this worker runs (each worker of a study runs its own)", positiveInt("--n-trials"))
    .option("--timeout <seconds>", "start no trial after this many seconds", positive("--timeout"))
    .addOption(new Option("--sampler <name>", "sampler").choices(["tpe", "random", "grid"]).default("tpe"))
    .addOption(new Option("--pruner <name>", "pruner (Optuna's defaults)").choices(["median", "successive-halving", "hyperband", "none"]).default("median"))
    .option("--seed <n>", "sampler seed (reproducible searches)", Number)
    .option("--output-dir <dir>", "a folder per trial: DIR/trial-N (passed to the command as WHET_TRIAL_DIR)")
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
        const opts: SearchOptions = {
          storage: o.storage, studyName: o.studyName, direction: o.direction, nTrials: o.nTrials, timeout: o.timeout,
          sampler: o.sampler, pruner: o.pruner, seed: o.seed, spaceFile: o.space, objectiveCommand: o.objectiveCommand,
          outputDir: o.outputDir, catchErrors: o.catch, heartbeatInterval: o.heartbeatInterval, gracePeriod: o.gracePeriod,
          maxRetry: o.retryFailed,
        };
        if (opts.nTrials === undefined && opts.timeout === undefined) throw new SearchUsageError("give --n-trials N or --timeout SECONDS");
        const { study, summary } = await runCommandSearch(opts);
        await study.storage.close();
        console.log(summary);
      } catch (e) {
        if (!(e instanceof SearchUsageError || e instanceof StorageUrlError) && !isDirectionMismatch(e)) throw e;
        console.error(`whet search: ${(e as Error).message}`);
        process.exit(2);
      }
    });
}

function isDirectionMismatch(e: unknown): boolean {
  return e instanceof Error && /was created to .*, not to/.test(e.message);
}
