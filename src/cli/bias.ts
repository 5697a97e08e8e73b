import { Command } from "commander";
import { rename, writeFile } from "node:fs/promises";
import { WhetError } from "../core/errors.js";
import { maxSequenceLength } from "../models/auto.js";
import { biasCheck, DEFAULT_COUNTERFACTUALS } from "../report/bias_check.js";
import { formatBiasCheck } from "../report/bias_format.js";
import { readLabelledFile } from "../report/labelled_file.js";
import { builtinLexicon, mergeLexicons, readLexicon } from "../report/lexicon.js";
import { textPredictor } from "../report/predict_texts.js";
import { loadForInference } from "./common.js";

const int = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new WhetError(`${flag}: expected a whole number >= 0, got "${v}"`);
  return n;
};

/** `whet bias`: per-group metrics, counterfactual flips and calibration of a text classifier. */
export function biasCommand(): Command {
  return new Command("bias")
    .description("check a text classifier for bias: per-group metrics, counterfactual invariance (CheckList), calibration")
    .requiredOption("--model <dir-or-id>", "trained classifier folder or Hub id")
    .requiredOption("--file <file>", "texts to check (.csv, .tsv, .jsonl); with labels for metrics and calibration")
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair (kept as is)")
    .option("--label-column <name>", "column holding the label (default label, when the file has one)")
    .option("--group-column <name>", "column naming each row's group (per-group metrics)")
    .option("--counterfactuals <list>",
      `perturbations, comma-separated (default ${DEFAULT_COUNTERFACTUALS.join(",")}); lexicon categories too`)
    .option("--lexicon <file>", "extra term pairs: lines of category<TAB>term<TAB>partner")
    .option("--positive-label <name>",
      "the positive class, for the negation test (default: recognised from the label names)")
    .option("--n-boot <n>", "bootstrap replicates for the confidence intervals", int("--n-boot"), 1000)
    .option("--seed <n>", "seed of the bootstrap and of the typos", int("--seed"), 0)
    .option("--max-length <n>", "truncate to this many tokens", int("--max-length"), 128)
    .option("--batch-size <n>", "examples per forward pass", int("--batch-size"), 64)
    .option("--threads <n>", "ONNX Runtime threads", int("--threads"))
    .option("--json", "print the result as one JSON document")
    .option("--output <file>", "also write the JSON here (e.g. RUN_DIR/bias.json, which `whet report` shows)")
    .action(async (o) => {
      const m = await loadForInference(o.model);
      if (m.task !== "sequence-classification") throw new WhetError(`bias: ${o.model} is a ${m.task} model; the check needs a sequence classifier`);
      const data = await readLabelledFile(o.file, m.model.config, {
        textColumn: o.textColumn, textPairColumn: o.textPairColumn, labelColumn: o.labelColumn,
          groupColumn: o.groupColumn,
      });
      const lexicon = o.lexicon ? mergeLexicons(builtinLexicon(), readLexicon(o.lexicon)) : builtinLexicon();
      let positiveLabel: number | undefined;
      if (o.positiveLabel !== undefined) {
        positiveLabel = data.labelNames.indexOf(o.positiveLabel);
        if (positiveLabel < 0) throw new WhetError(`--positive-label "${o.positiveLabel}": the model's labels are ${data.labelNames.join(", ")}`);
      }
      const predict = textPredictor(m, { maxLength: Math.min(o.maxLength, maxSequenceLength(m.model.config)),
        batchSize: o.batchSize, threads: o.threads }, data.pairs);
      const result = await biasCheck({ texts: data.texts, labelNames: data.labelNames, labels: data.labels,
        groups: data.groups, predict }, {
        counterfactuals: o.counterfactuals?.split(",").map((s: string) => s.trim()).filter(Boolean),
        lexicon, nBoot: o.nBoot, seed: o.seed, positiveLabel,
      });
      const full = { model: o.model, file: o.file, ...(o.groupColumn ? { group_column: o.groupColumn } : {}),
        ...result };
      if (o.output) {
        await writeFile(`${o.output}.tmp`, JSON.stringify(full, null, 1));
        await rename(`${o.output}.tmp`, o.output);
      }
      for (const w of result.warnings) console.error(`warning: ${w}`);
      if (!data.labels
        && o.groupColumn) console.error("warning: per-group metrics need labels: the file has no label column");
      console.log(o.json ? JSON.stringify(full) : formatBiasCheck(result));
    });
}
