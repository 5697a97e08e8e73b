// The output folder of a training run (train, pretrain, distill): the rules of io/output_dir.ts
// with the Trainer's markers and the flag names a CLI user typed.
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { prepareOutputDir, refuseFinishedOutput, type OutputDir, type OutputDirOptions } from "../io/output_dir.js";
import type { TrainingArguments } from "./arguments.js";
import { listCheckpoints } from "./checkpoint.js";

/**
 * Checks `args.output_dir` before anything is written: not an input, not a foreign non-empty
 * folder unless overwrite_output_dir, a finished run only with overwrite_output_dir, an unfinished
 * one only with resume_from_checkpoint or overwrite_output_dir (transformers' scripts refuse a
 * non-empty output_dir the same way, naming the checkpoint to resume from). Point the
 * Trainer at `workDir` and run inside `run` so a replaced run is swapped in only on success.
 *
 * @example
 * const out = await prepareRunOutput(args, [modelDir, "train.csv"]);
 * const result = await out.run((dir) => new Trainer({ ...options, args: { ...args, output_dir: dir } }).train());
 */
export function prepareRunOutput(args: TrainingArguments, inputs: (string | undefined)[], log?: (line: string) => void): Promise<OutputDir> {
  return prepareOutputDir(runOutputOptions(args, inputs, log));
}

/** A finished run in `args.output_dir` (without --overwrite-output-dir or a resume) is refused: cheap, before any loading. */
export function refuseFinishedRun(args: TrainingArguments): void {
  refuseFinishedOutput(runOutputOptions(args, []));
}

function runOutputOptions(args: TrainingArguments, inputs: (string | undefined)[], log?: (line: string) => void): OutputDirOptions {
  const r = args.resume_from_checkpoint;
  const rel = typeof r === "string" ? relative(resolve(args.output_dir), resolve(r)) : "..";
  const resume = r === true || (typeof r === "string" && !rel.startsWith("..") && !isAbsolute(rel));
  return {
    outputDir: args.output_dir, inputs, overwrite: args.overwrite_output_dir, resume,
    // A checkpoint copied into a fresh folder is resumed as transformers' Trainer does.
    resumeFrom: /^checkpoint-\d+$/,
    ownMarker: "run.json", finishedMarkers: ["trainer_state.json", "model.safetensors"], leftovers: ["data_report.json"],
    flag: "--output-dir", overwriteFlag: "--overwrite-output-dir", log,
    unfinishedHint: (dir) => {
      const last = listCheckpoints(dir).at(-1);
      return last ? `continue it with --resume-from-checkpoint ${join(args.output_dir, basename(last))} ` +
        `(or --resume-from-checkpoint alone for the latest)` : "it has no complete checkpoint to continue from";
    },
  };
}
