// The output folder of a training run (train, pretrain, distill): the rules of io/output_dir.ts
// with the Trainer's markers and the flag names a CLI user typed.
import { isAbsolute, relative, resolve } from "node:path";
import { prepareOutputDir, refuseFinishedOutput, type OutputDir, type OutputDirOptions } from "../io/output_dir.js";
import type { TrainingArguments } from "./arguments.js";

/**
 * Checks `args.output_dir` before anything is written: not an input, not a foreign non-empty
 * folder unless overwrite_output_dir, a finished run only with overwrite_output_dir. Point the
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
    ownMarker: "run.json", finishedMarkers: ["trainer_state.json", "model.safetensors"],
    flag: "--output-dir", overwriteFlag: "--overwrite-output-dir", log,
  };
}
