import { Command } from "commander";
import { WhetError } from "../core/errors.js";
import { LabelMap } from "../data/labels.js";
import { maxSequenceLength } from "../models/auto.js";
import { readConll } from "../data/conll.js";
import { readTable } from "../data/read.js";
import type { Example, LabelKind } from "../data/collate.js";
import { Evaluator, standardMetrics } from "../train/evaluator.js";
import { evaluationExtras } from "../report/evaluation_extras.js";
import { readGroupColumn } from "../report/group_column.js";
import { encodeTokenRows } from "../data/token_examples.js";
import { encodeRows, labelKind } from "../data/examples.js";
import { loadForInference } from "./common.js";

/** `whet evaluate`: the metrics of a trained model on a labelled file, as one JSON line. */
export function evaluateCommand(): Command {
  return new Command("evaluate")
    .description("evaluate a trained model on a labelled file; prints one JSON line of metrics")
    .requiredOption("--model <dir-or-id>", "trained model folder or Hub id")
    .option("--adapter <dir>", "PEFT adapter folder to load onto --model")
    .requiredOption("--file <file>", "labelled data (.csv, .tsv, .jsonl; CoNLL or JSONL tokens for token classification)")
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default label)")
    .option("--max-length <n>", "truncate to this many tokens", Number, 128)
    .option("--batch-size <n>", "examples per forward pass", Number, 64)
    .option("--threads <n>", "ONNX Runtime threads", Number)
    .option("--group-column <name>", "column naming each row's group: adds per-group metrics (classification)")
    .option("--n-boot <n>", "bootstrap replicates for the per-group confidence intervals", Number, 1000)
    .option("--seed <n>", "seed of the bootstrap", Number, 0)
    .action(async (o) => {
      const m = await loadForInference(o.model, o.adapter);
      o.maxLength = Math.min(o.maxLength, maxSequenceLength(m.model.config));
      let examples: Example[], kind: LabelKind, groups: string[] | undefined;
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
        if (o.groupColumn) groups = await readGroupColumn(o.file, o.groupColumn, table);
      }
      if (o.groupColumn && kind !== "class") throw new WhetError(`--group-column: per-group metrics need a single-label classifier, not ${kind}`);
      const enc = { examples };
      if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new WhetError(`--batch-size must be a whole number of at least 1, got ${o.batchSize}`);
      const ev = await Evaluator.create({ model: m.model, examples, labels: kind, padId: m.tokenizer.padTokenId ?? 0, batchSize: o.batchSize, threads: o.threads });
      if (kind !== "class") {
        const metrics = await ev.evaluate();
        await ev.release();
        console.log(JSON.stringify({ rows: enc.examples.length, ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`eval_${k}`, v])) }));
        return;
      }
      // One forward pass for both the metrics and the details (what ev.evaluate() would compute).
      const { loss, prediction } = await ev.predict();
      await ev.release();
      const metrics = { loss, ...standardMetrics(prediction, m.model.config.id2label) };
      const group = groups && { column: o.groupColumn as string, values: groups, nBoot: o.nBoot, seed: o.seed };
      const { extras, warnings } = evaluationExtras(prediction, m.labels, group);
      for (const w of warnings) console.error(`warning: ${w}`);
      console.log(JSON.stringify({ rows: enc.examples.length, ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`eval_${k}`, v])), ...extras }));
    });
}
