import { Command } from "commander";
import { LabelMap } from "../data/labels.js";
import { readTable } from "../data/read.js";
import { Evaluator } from "../train/evaluator.js";
import { encodeRows, labelKind } from "./train.js";
import { loadForInference } from "./common.js";

/** `whet evaluate`: the metrics of a trained model on a labelled file, as one JSON line. */
export function evaluateCommand(): Command {
  return new Command("evaluate")
    .description("evaluate a trained model on a labelled file; prints one JSON line of metrics")
    .requiredOption("--model <dir-or-id>", "trained model folder or Hub id")
    .requiredOption("--file <file>", "labelled data (.csv, .tsv, .jsonl)")
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default label)")
    .option("--max-length <n>", "truncate to this many tokens", Number, 128)
    .option("--batch-size <n>", "examples per forward pass", Number, 64)
    .option("--threads <n>", "ONNX Runtime threads", Number)
    .action(async (o) => {
      const m = await loadForInference(o.model);
      const table = await readTable(o.file, { textColumn: o.textColumn ?? "text", textPairColumn: o.textPairColumn, labelColumn: o.labelColumn ?? "label" });
      const labels = LabelMap.fromConfig(m.model.config);
      const enc = await encodeRows(table.rows, m.tokenizer, o.maxLength, labels);
      const ev = await Evaluator.create({ model: m.model, examples: enc.examples, labels: labelKind(labels), padId: m.tokenizer.padTokenId ?? 0, batchSize: o.batchSize, threads: o.threads });
      const metrics = await ev.evaluate();
      await ev.release();
      console.log(JSON.stringify({ rows: enc.examples.length, ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`eval_${k}`, v])) }));
    });
}
