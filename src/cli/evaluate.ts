import { Command } from "commander";
import { WhetError } from "../core/errors.js";
import { LabelMap } from "../data/labels.js";
import { maxSequenceLength } from "../models/auto.js";
import { readConll } from "../data/conll.js";
import { readTable } from "../data/read.js";
import type { Example, LabelKind } from "../train/collate.js";
import { Evaluator } from "../train/evaluator.js";
import { encodeTokenRows } from "./token_data.js";
import { encodeRows, labelKind } from "./train.js";
import { loadForInference } from "./common.js";

/** `whet evaluate`: the metrics of a trained model on a labelled file, as one JSON line. */
export function evaluateCommand(): Command {
  return new Command("evaluate")
    .description("evaluate a trained model on a labelled file; prints one JSON line of metrics")
    .requiredOption("--model <dir-or-id>", "trained model folder or Hub id")
    .requiredOption("--file <file>", "labelled data (.csv, .tsv, .jsonl; CoNLL or JSONL tokens for token classification)")
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default label)")
    .option("--max-length <n>", "truncate to this many tokens", Number, 128)
    .option("--batch-size <n>", "examples per forward pass", Number, 64)
    .option("--threads <n>", "ONNX Runtime threads", Number)
    .action(async (o) => {
      const m = await loadForInference(o.model);
      o.maxLength = Math.min(o.maxLength, maxSequenceLength(m.model.config));
      let examples: Example[], kind: LabelKind;
      if (m.task === "token-classification") {
        // NER: CoNLL or JSONL sentences, tags mapped through the model's own label2id.
        const table = await readConll(o.file);
        examples = (await encodeTokenRows(table.sentences, m.tokenizer, o.maxLength, new Map(m.labels.map((l, i) => [l, i])))).examples;
        kind = "token";
      } else {
        const table = await readTable(o.file, { textColumn: o.textColumn ?? "text", textPairColumn: o.textPairColumn, labelColumn: o.labelColumn ?? "label" });
        const labels = LabelMap.fromConfig(m.model.config);
        examples = (await encodeRows(table.rows, m.tokenizer, o.maxLength, labels)).examples;
        kind = labelKind(labels);
      }
      const enc = { examples };
      if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new WhetError(`--batch-size must be a whole number of at least 1, got ${o.batchSize}`);
      const ev = await Evaluator.create({ model: m.model, examples, labels: kind, padId: m.tokenizer.padTokenId ?? 0, batchSize: o.batchSize, threads: o.threads });
      const metrics = await ev.evaluate();
      await ev.release();
      console.log(JSON.stringify({ rows: enc.examples.length, ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`eval_${k}`, v])) }));
    });
}
