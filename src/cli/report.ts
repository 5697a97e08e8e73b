import { Command } from "commander";
import { existsSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { maxSequenceLength } from "../models/auto.js";
import { evaluationSource, evaluationView } from "../report/evaluation_view.js";
import { buildHtmlReport } from "../report/html_report.js";
import type { EvaluationView } from "../report/html_sections.js";
import { readRunDir, type RunDir } from "../report/run_dir.js";
import { loadForInference } from "./common.js";

interface Flags {
  output?: string; file?: string; textColumn?: string; textPairColumn?: string; labelColumn?: string;
  evaluation: boolean; maxLength: number; batchSize: number; threads?: number;
}

/** The evaluation section, or why there is none. */
async function evaluate(run: RunDir, o: Flags): Promise<EvaluationView | string> {
  if (!o.evaluation) return "left out (--no-evaluation)";
  const source = evaluationSource(run, o);
  if (!source) return "no labelled file to evaluate on: the run had no --validation-file; pass --file";
  if (!existsSync(join(run.dir,
    "model.safetensors"))) return `${run.dir} holds no trained model (model.safetensors): the run did not finish`;
  const m = await loadForInference(run.dir);
  if (m.task !== "sequence-classification") return `the evaluation section covers sequence classification; this run is ${m.task}`;
  return evaluationView(m, source, { maxLength: Math.min(o.maxLength, maxSequenceLength(m.model.config)),
    batchSize: o.batchSize, threads: o.threads });
}

/** `whet report RUN_DIR`: one self-contained HTML page about a training run. */
export function reportCommand(): Command {
  return new Command("report")
    .description("write a self-contained HTML report of a training run (curves, confusion matrix, calibration, bias check)")
    .argument("<run-dir>", "output_dir of whet train")
    .option("--output <file>", "where the page goes (default RUN_DIR/report.html)")
    .option("--file <file>", "labelled file to evaluate the trained model on (default: the run's --validation-file)")
    .option("--text-column <name>", "column holding the text (default: the run's, else text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default: the run's, else label)")
    .option("--no-evaluation", "do not run the model; report the logs only")
    .option("--max-length <n>", "truncate to this many tokens", Number, 128)
    .option("--batch-size <n>", "examples per forward pass", Number, 64)
    .option("--threads <n>", "ONNX Runtime threads", Number)
    .action(async (dir: string, o: Flags) => {
      const run = readRunDir(dir);
      const ev = await evaluate(run, o);
      const html = buildHtmlReport(run, typeof ev === "string" ? { evaluationNote: ev } : { evaluation: ev });
      const out = o.output ?? join(dir, "report.html");
      await writeFile(`${out}.tmp`, html);
      await rename(`${out}.tmp`, out);
      if (typeof ev === "string") console.error(`evaluation: ${ev}`);
      console.log(out);
    });
}
