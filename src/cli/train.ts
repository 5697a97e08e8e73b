import { Command } from "commander";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { LabelMap } from "../data/labels.js";
import { readConll, type TokenRow } from "../data/conll.js";
import { readTable, type TextRow } from "../data/read.js";
import { buildReport, formatReport } from "../data/report.js";
import { stratifiedSplit } from "../data/split.js";
import { resolveModel } from "../io/hub.js";
import { readConfig } from "../io/config.js";
import { writeTextAtomic } from "../io/files.js";
import { dropoutOverrides, FAMILIES, maxSequenceLength } from "../models/auto.js";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { resolveArguments } from "../train/arguments.js";
import type { Example, LabelKind } from "../train/collate.js";
import { prepareRunOutput } from "../train/run_output.js";
import { Trainer, WHET_VERSION } from "../train/trainer.js";
import { addTrainingOptions, readRunConfig, trainingFlags } from "./args_options.js";
import { encodeTokenRows } from "./token_data.js";

/** Keys of a run config that describe the data and model rather than TrainingArguments. */
const DATA_KEYS = ["model", "task", "train_file", "validation_file", "text_column", "text_pair_column", "label_column", "validation_split", "label_separator", "strict"] as const;

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

interface Prepared {
  train: Example[];
  eval: Example[];
  kind: LabelKind;
  labelNames: string[];
  problemType?: string;
  report: unknown;
  reportText: string;
}

/** Text classification rows: read, split if needed, labels mapped, tokenized, reported. */
async function prepareTextData(data: Record<string, unknown>, readOpts: Parameters<typeof readTable>[1], seed: number, maxLength: number, wantEval: boolean, tok: Tokenizer): Promise<Prepared> {
  const train = await readTable(data.train_file as string, readOpts);
  let trainRows = train.rows, evalRows: TextRow[] = [];
  if (data.validation_file) evalRows = (await readTable(data.validation_file as string, readOpts)).rows;
  else if (wantEval) {
    const split = stratifiedSplit(train.rows, { validationSize: (data.validation_split as number) ?? 0.1, seed });
    trainRows = [...split.train];
    evalRows = [...split.validation];
    console.error(`held out ${evalRows.length} of ${train.rows.length} rows for evaluation (stratified, seed ${seed})`);
  }
  const labels = LabelMap.fit(trainRows.map((r) => r.label));
  const enc = await encodeRows(trainRows, tok, maxLength, labels);
  const evalEnc = await encodeRows(evalRows, tok, maxLength, labels);
  const lengthOf = new Map(trainRows.map((r, i) => [`${r.text}\u0000${r.textPair ?? ""}`, enc.lengths[i]]));
  const report = buildReport(trainRows, { tokenCount: (t, p) => lengthOf.get(`${t}\u0000${p ?? ""}`) ?? 0, maxLength, skipped: train.skipped });
  return { train: enc.examples, eval: evalEnc.examples, kind: labelKind(labels), labelNames: [...labels.names], problemType: labels.problemType, report, reportText: formatReport(report) };
}

/** Token classification sentences (CoNLL or JSONL): tags from the training file, sorted as run_ner sorts them. */
async function prepareTokenData(data: Record<string, unknown>, seed: number, maxLength: number, wantEval: boolean, tok: Tokenizer): Promise<Prepared> {
  const train = await readConll(data.train_file as string);
  let trainRows = train.sentences, evalRows: TokenRow[] = [];
  if (data.validation_file) evalRows = (await readConll(data.validation_file as string)).sentences;
  else if (wantEval) {
    const order = new Rng(seed, 0x73706c6974).permutation(trainRows.length);
    const n = Math.max(1, Math.round(((data.validation_split as number) ?? 0.1) * trainRows.length));
    evalRows = order.slice(0, n).map((i) => train.sentences[i]);
    trainRows = order.slice(n).sort((a, b) => a - b).map((i) => train.sentences[i]);
    console.error(`held out ${evalRows.length} of ${train.sentences.length} sentences for evaluation (seed ${seed})`);
  }
  const tagIds = new Map(train.tagSet.map((t, i) => [t, i]));
  const enc = await encodeTokenRows(trainRows, tok, maxLength, tagIds);
  const evalEnc = await encodeTokenRows(evalRows, tok, maxLength, tagIds);
  const counts = Object.fromEntries(train.tagSet.map((t) => [t, trainRows.reduce((s, r) => s + r.tags.filter((x) => x === t).length, 0)]));
  const report = { sentences: trainRows.length, evaluation_sentences: evalRows.length, tags: counts, iob2: train.iob2, truncated: enc.truncated, skipped: train.skipped };
  const reportText = [
    `Sentences: ${trainRows.length} for training, ${evalRows.length} for evaluation; ${enc.truncated} cut at max_length ${maxLength}`,
    `Tags: ${Object.entries(counts).map(([t, c]) => `${t} ${c}`).join(", ")}`,
    ...(train.iob2.violations ? [`IOB2: ${train.iob2.violations} I- tags without a matching B- (counted, not fatal)`] : []),
  ].join("\n");
  return { train: enc.examples, eval: evalEnc.examples, kind: "token", labelNames: train.tagSet, report, reportText };
}

export function trainCommand(): Command {
  const cmd = new Command("train")
    .description("fine-tune a model for text classification on a CSV / TSV / JSONL file")
    .option("--model <dir-or-id>", "pretrained model folder or Hub id (org/name[@revision])")
    .option("--task <task>", "sequence-classification (default) or token-classification (CoNLL or JSONL tokens/ner_tags)")
    .option("--train-file <file>", "training data (.csv, .tsv, .jsonl; CoNLL for token classification)")
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
    const dir = await resolveModel(data.model as string);
    const tok = await loadTokenizer(dir);
    // As run_glue does: never longer than the model can take, and say so.
    const limit = maxSequenceLength(readConfig(dir));
    if (args.max_length > limit) {
      console.error(`max_length ${args.max_length} is longer than this model's ${limit} positions: using ${limit}`);
      args.max_length = limit;
    }
    const task = (data.task as string | undefined) ?? "sequence-classification";
    if (task !== "sequence-classification" && task !== "token-classification") {
      throw new WhetError(`train: --task must be sequence-classification or token-classification, got "${task}"`);
    }
    const prepared = task === "token-classification"
      ? await prepareTokenData(data, args.seed, args.max_length, args.eval_strategy !== "no", tok)
      : await prepareTextData(data, readOpts, args.seed, args.max_length, args.eval_strategy !== "no", tok);
    console.error(prepared.reportText);
    if (prepared.kind === "class" && prepared.labelNames.length === 1) {
      console.error(`warning: every training row has the label "${prepared.labelNames[0]}": the model can only learn to predict it`);
    }
    const out = await prepareRunOutput(args, [dir, data.train_file as string, data.validation_file as string | undefined]);
    args.output_dir = out.workDir;

    const modelType = readConfig(dir).model_type;
    const overrides: Record<string, unknown> = {
      ...dropoutOverrides(modelType, { hidden: args.hidden_dropout_prob, attention: args.attention_dropout_prob, classifier: args.classifier_dropout_prob }),
      ...(prepared.problemType ? { problem_type: prepared.problemType } : {}),
    };
    const { model, report: load } = await fromPretrained(dir, { task, labels: prepared.labelNames, configOverrides: overrides, seed: args.seed });
    if (load.initialized.length) console.error(`newly initialised (not in the checkpoint): ${load.initialized.join(", ")}`);
    const trainer = new Trainer({
      model, args, train: prepared.train, eval: prepared.eval, labels: prepared.kind, labelNames: prepared.labelNames,
      padId: tok.padTokenId ?? 0, tokenizer: tok,
      runInfo: {
        command: process.argv.slice(2),
        model: data.model, model_dir: dir, family: FAMILIES[modelType].prefix,
        data: { train_file: data.train_file, train_sha256: sha256(data.train_file as string), ...(data.validation_file ? { validation_file: data.validation_file, validation_sha256: sha256(data.validation_file as string) } : {}) },
        task, labels: prepared.labelNames, whet: WHET_VERSION,
      },
    });
    const result = await out.run(async (work) => {
      await writeTextAtomic(join(work, "data_report.json"), JSON.stringify(prepared.report, null, 1));
      return trainer.train();
    });
    console.log(JSON.stringify({ output_dir: out.requested, global_step: result.globalStep, train_loss: result.trainLoss, interrupted: result.interrupted, ...Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [`eval_${k}`, v])) }));
    if (result.interrupted) process.exitCode = 130;
  });
}
