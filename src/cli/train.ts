import { Command } from "commander";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { LabelMap } from "../data/labels.js";
import { readTable, type TextRow } from "../data/read.js";
import { buildReport, formatReport } from "../data/report.js";
import { stratifiedSplit } from "../data/split.js";
import { resolveModel } from "../io/hub.js";
import { readConfig } from "../io/config.js";
import { dropoutOverrides, FAMILIES } from "../models/auto.js";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { resolveArguments } from "../train/arguments.js";
import type { Example, LabelKind } from "../train/collate.js";
import { Trainer, WHET_VERSION } from "../train/trainer.js";
import { addTrainingOptions, readRunConfig, trainingFlags } from "./args_options.js";

/** Keys of a run config that describe the data and model rather than TrainingArguments. */
const DATA_KEYS = ["model", "train_file", "validation_file", "text_column", "text_pair_column", "label_column", "validation_split", "label_separator", "strict"] as const;

export interface Encoded {
  examples: Example[];
  /** Untruncated token counts, for the data report's truncation share. */
  lengths: number[];
}

/** Tokenize rows (truncating to maxLength) and encode their labels. */
export async function encodeRows(rows: readonly TextRow[], tok: Tokenizer, maxLength: number, labels: LabelMap | null): Promise<Encoded> {
  const examples: Example[] = [], lengths: number[] = [];
  for (const r of rows) {
    let e = await tok.encode(r.text, r.textPair ?? null, { addSpecialTokens: true });
    lengths.push(e.ids.length);
    if (e.ids.length > maxLength) e = await tok.encode(r.text, r.textPair ?? null, { maxLength, truncation: "longest_first" });
    examples.push({ input_ids: e.ids, token_type_ids: e.typeIds, label: labels && r.label !== undefined ? labels.encode(r.label) : undefined });
  }
  return { examples, lengths };
}

export function labelKind(labels: LabelMap): LabelKind {
  return labels.problemType === "regression" ? "regression" : labels.problemType === "multi_label_classification" ? "multi_label" : "class";
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export function trainCommand(): Command {
  const cmd = new Command("train")
    .description("fine-tune a model for text classification on a CSV / TSV / JSONL file")
    .option("--model <dir-or-id>", "pretrained model folder or Hub id (org/name[@revision])")
    .option("--train-file <file>", "training data (.csv, .tsv, .jsonl)")
    .option("--validation-file <file>", "evaluation data; default: a stratified split of the training data")
    .option("--validation-split <fraction>", "share of the training data held out when no validation file is given", Number)
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default label)")
    .option("--label-separator <sep>", "multi-label: separator inside the label field (e.g. \"|\")")
    .option("--strict", "stop at the first bad row instead of skipping it")
    .option("--config <file>", "run config (YAML or JSON) with any of these options; flags override it");
  addTrainingOptions(cmd);
  return cmd.action(async (opts: Record<string, unknown>) => {
    const fileCfg = opts.config ? readRunConfig(opts.config as string) : {};
    const data: Record<string, unknown> = {};
    for (const k of DATA_KEYS) {
      if (k in fileCfg) data[k] = fileCfg[k];
      delete fileCfg[k];
    }
    const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    for (const k of DATA_KEYS) if (opts[camel(k)] !== undefined) data[k] = opts[camel(k)];
    if (!data.model) throw new WhetError("train: --model is required (a folder or a Hub id)");
    if (!data.train_file) throw new WhetError("train: --train-file is required");
    const args = resolveArguments({ ...fileCfg, ...trainingFlags(opts) }, "train");
    const readOpts = {
      textColumn: (data.text_column as string) ?? "text",
      textPairColumn: data.text_pair_column as string | undefined,
      labelColumn: (data.label_column as string) ?? "label",
      labelSeparator: data.label_separator as string | undefined,
      strict: Boolean(data.strict),
    };
    const train = await readTable(data.train_file as string, readOpts);
    let trainRows = train.rows, evalRows: TextRow[] = [];
    if (data.validation_file) evalRows = (await readTable(data.validation_file as string, readOpts)).rows;
    else if (args.eval_strategy !== "no") {
      const split = stratifiedSplit(train.rows, { validationSize: (data.validation_split as number) ?? 0.1, seed: args.seed });
      trainRows = [...split.train];
      evalRows = [...split.validation];
      console.error(`held out ${evalRows.length} of ${train.rows.length} rows for evaluation (stratified, seed ${args.seed})`);
    }
    const labels = LabelMap.fit(trainRows.map((r) => r.label));
    const dir = await resolveModel(data.model as string);
    const tok = await loadTokenizer(dir);
    const enc = await encodeRows(trainRows, tok, args.max_length, labels);
    const evalEnc = await encodeRows(evalRows, tok, args.max_length, labels);
    const lengthOf = new Map(trainRows.map((r, i) => [`${r.text}\u0000${r.textPair ?? ""}`, enc.lengths[i]]));
    const report = buildReport(trainRows, { tokenCount: (t, p) => lengthOf.get(`${t}\u0000${p ?? ""}`) ?? 0, maxLength: args.max_length, skipped: train.skipped });
    console.error(formatReport(report));
    await mkdir(args.output_dir, { recursive: true });
    await writeFile(join(args.output_dir, "data_report.json"), JSON.stringify(report, null, 1));

    const modelType = readConfig(dir).model_type;
    const overrides: Record<string, unknown> = {
      ...dropoutOverrides(modelType, { hidden: args.hidden_dropout_prob, attention: args.attention_dropout_prob, classifier: args.classifier_dropout_prob }),
      problem_type: labels.problemType,
    };
    const { model, report: load } = await fromPretrained(dir, { task: "sequence-classification", labels: labels.names, configOverrides: overrides, seed: args.seed });
    if (load.initialized.length) console.error(`newly initialised (not in the checkpoint): ${load.initialized.join(", ")}`);
    const trainer = new Trainer({
      model, args, train: enc.examples, eval: evalEnc.examples, labels: labelKind(labels), labelNames: labels.names,
      padId: tok.padTokenId ?? 0, tokenizer: tok,
      runInfo: {
        command: process.argv.slice(2),
        model: data.model, model_dir: dir, family: FAMILIES[modelType].prefix,
        data: { train_file: data.train_file, train_sha256: sha256(data.train_file as string), ...(data.validation_file ? { validation_file: data.validation_file, validation_sha256: sha256(data.validation_file as string) } : {}) },
        labels: labels.names, whet: WHET_VERSION,
      },
    });
    const result = await trainer.train();
    console.log(JSON.stringify({ output_dir: args.output_dir, global_step: result.globalStep, train_loss: result.trainLoss, interrupted: result.interrupted, ...Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [`eval_${k}`, v])) }));
    if (result.interrupted) process.exitCode = 130;
  });
}
