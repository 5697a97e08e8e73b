import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ARGUMENT_NAMES } from "../train/arguments.js";
import type { Direction } from "./frozen_trial.js";
import { GridSampler } from "./grid_sampler.js";
import { commandObjective } from "./objective_command.js";
import { HyperbandPruner, MedianPruner, NopPruner, SuccessiveHalvingPruner, type Pruner } from "./pruners.js";
import { RandomSampler } from "./random_sampler.js";
import type { Sampler } from "./sampler.js";
import { defaultSpace, readSpaceFile, SearchUsageError, type SearchSpace } from "./space_file.js";
import type { Study } from "./study.js";
import { createStudy, loadStudy } from "./study_api.js";
import { formatSummary } from "./summary.js";
import { TpeSampler } from "./tpe_sampler.js";

export interface SearchOptions {
  storage: string;
  studyName: string;
  direction: Direction;
  nTrials?: number;
  timeout?: number;
  sampler: "tpe" | "random" | "grid";
  pruner: "median" | "successive-halving" | "hyperband" | "none";
  seed?: number;
  spaceFile?: string;
  objectiveCommand?: string;
  outputDir?: string;
  catchErrors: boolean;
  heartbeatInterval?: number;
  gracePeriod?: number;
  maxRetry?: number;
}

export function makeSampler(name: SearchOptions["sampler"], space: SearchSpace, seed?: number): Sampler {
  if (name === "random") return new RandomSampler({ seed });
  if (name === "tpe") return new TpeSampler({ seed });
  const grid: Record<string, (string | number | boolean | null)[]> = {};
  for (const [n, d] of Object.entries(space)) {
    if (d.kind === "categorical") grid[n] = d.choices;
    else if (d.kind === "int" && !d.log) {
      grid[n] = Array.from({ length: (d.high - d.low) / d.step + 1 }, (_, i) => d.low + i * d.step);
    } else if (d.kind === "float" && d.step !== null) {
      grid[n] = Array.from({ length: Math.round((d.high - d.low) / d.step) + 1 }, (_, i) =>
        +(d.low + i * d.step!).toPrecision(12));
    } else {
      throw new SearchUsageError(`--sampler grid: "${n}" is a continuous range; ` +
        "give it a step or choices in the space file");
    }
  }
  return new GridSampler(grid, { seed });
}

export function makePruner(name: SearchOptions["pruner"]): Pruner {
  switch (name) {
    case "median": return new MedianPruner();
    case "successive-halving": return new SuccessiveHalvingPruner();
    case "hyperband": return new HyperbandPruner();
    default: return new NopPruner();
  }
}

/** The space of a search: the file's, or transformers' default for a fine-tuning search. */
export function searchSpace(opts: Pick<SearchOptions, "spaceFile" | "objectiveCommand">): SearchSpace {
  if (opts.spaceFile !== undefined) return readSpaceFile(opts.spaceFile,
    opts.objectiveCommand === undefined ? ARGUMENT_NAMES : undefined);
  if (opts.objectiveCommand !== undefined)
    throw new SearchUsageError("--objective-command needs --space FILE: the command's parameters");
  return defaultSpace();
}

/**
 * `whet search` with --objective-command: create or join the study, run this worker's trials,
 * return the summary text. Several workers (processes, machines) may run it on one storage.
 */
export async function runCommandSearch(opts: SearchOptions): Promise<{ study: Study; summary: string }> {
  const space = searchSpace(opts);
  if (opts.objectiveCommand === undefined)
    throw new SearchUsageError("a fine-tuning search needs the finetune recipe; use --objective-command");
  const study = await createStudy({
    storage: opts.storage, studyName: opts.studyName, direction: opts.direction, loadIfExists: true,
    sampler: makeSampler(opts.sampler, space, opts.seed), pruner: makePruner(opts.pruner),
    heartbeatInterval: opts.heartbeatInterval, gracePeriod: opts.gracePeriod, maxRetry: opts.maxRetry,
  });
  const out = opts.outputDir === undefined ? undefined : resolve(opts.outputDir);
  const trialDir = out === undefined ? undefined : (n: number): string => {
    const dir = join(out, `trial-${n}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const objective = commandObjective(opts.objectiveCommand, space, { studyName: opts.studyName, trialDir });
  await study.optimize(objective, { nTrials: opts.nTrials, timeout: opts.timeout, catch: opts.catchErrors });
  return { study, summary: formatSummary(study.studyName, study.directions, await study.trials()) };
}

/** `whet search --summary`: the summary of an existing study, running nothing. */
export async function studySummary(storage: string, studyName: string): Promise<string> {
  const study = await loadStudy({ storage, studyName });
  try {
    return formatSummary(study.studyName, study.directions, await study.trials());
  } finally {
    await study.storage.close();
  }
}
