import { Command } from "commander";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { readCorpus } from "../data/corpus.js";
import { writeTextAtomic } from "../io/files.js";
import type { TaskModel } from "../models/auto.js";
import type { Tokenizer } from "../tokenizers/index.js";
import { resolveArguments, type TrainingArguments } from "../train/arguments.js";
import { listCheckpoints } from "../train/checkpoint.js";
import type { Example } from "../train/collate.js";
import { encodeForMlm, maskTokens, mlmTransform, type MaskingOptions } from "../train/mlm.js";
import { Evaluator } from "../train/evaluator.js";
import { prepareRunOutput } from "../train/run_output.js";
import { Trainer, WHET_VERSION } from "../train/trainer.js";
import { addTrainingOptions, readRunConfig, trainingFlags } from "./args_options.js";
import { ARCH_KEYS, prepareStart, type ArchKey, type StartSpec } from "./pretrain_setup.js";

export interface PretrainSpec extends StartSpec {
  /** The corpus: one string per document. */
  documents: readonly string[];
  args: TrainingArguments;
  /** Share of the corpus's blocks held out for the masked-LM loss before and after (default 0.05; 0: none). */
  validationSplit?: number;
  mlmProbability?: number;
  wholeWordMasking?: boolean;
  /** One example per document (truncated) instead of packed blocks. */
  lineByLine?: boolean;
  log?: (line: string) => void;
  runInfo?: Record<string, unknown>;
}

export interface PretrainResult {
  outputDir: string;
  model: TaskModel;
  tokenizer: Tokenizer;
  globalStep: number;
  trainLoss: number;
  /** Held-out masked-LM loss (mean over predicted tokens) before and after training; null without a held-out set. */
  evalLossBefore: number | null;
  evalLoss: number | null;
  perplexity: number | null;
  trainBlocks: number;
  evalBlocks: number;
  tokens: number;
  interrupted: boolean;
}

/** Keeps the held-out split and its fixed masks apart from the training streams of the same seed. */
const SPLIT_STREAM = 0x70726574;
const EVAL_EPOCH = -1;

/**
 * Masked-LM pretraining: the starting model and tokenizer (see pretrain_setup.ts), the corpus
 * cut into blocks, masks drawn per epoch from (seed, epoch, block) inside the Trainer, the
 * model saved in Hugging Face layout (BertForMaskedLM…) with its tokenizer.
 */
export async function runPretrain(s: PretrainSpec): Promise<PretrainResult> {
  const a = s.args, log = s.log ?? ((l: string) => process.stderr.write(l + "\n"));
  if (s.documents.length === 0) throw new WhetError("pretrain: the corpus has no documents");
  const split = s.validationSplit ?? 0.05;
  if (!(split >= 0 && split < 1)) throw new WhetError(`pretrain: --validation-split must lie in [0, 1), got ${split}`);
  const resume = a.resume_from_checkpoint === true ? listCheckpoints(a.output_dir).at(-1) ?? null : typeof a.resume_from_checkpoint === "string" ? a.resume_from_checkpoint : null;
  const start = await prepareStart(s, s.documents, a, resume, log);
  const { model, tokenizer } = start;
  if (start.initialized.length) log(`newly initialised (not in the checkpoint): ${start.initialized.join(", ")}`);
  const c = model.config, positions = Number(c.max_position_embeddings) - (c.model_type === "roberta" || c.model_type === "xlm-roberta" ? 2 : 0);
  if (a.max_length > positions) throw new WhetError(`pretrain: max_length ${a.max_length} exceeds the model's ${positions} positions (max_position_embeddings ${c.max_position_embeddings})`);
  const mask = tokenizer.maskTokenId;
  if (mask === undefined) throw new WhetError("pretrain: the tokenizer has no mask token (mask_token in tokenizer_config.json)");

  const corpus = await encodeForMlm(s.documents, tokenizer, { maxLength: a.max_length, mode: s.lineByLine ? "line" : "group" });
  const order = new Rng(a.seed, SPLIT_STREAM).permutation(corpus.examples.length);
  const nEval = split > 0 ? Math.min(corpus.examples.length - 1, Math.max(1, Math.round(split * corpus.examples.length))) : 0;
  const evalIdx = order.slice(0, nEval).sort((x, y) => x - y), trainIdx = order.slice(nEval).sort((x, y) => x - y);
  const train = trainIdx.map((i) => corpus.examples[i]), trainWords = trainIdx.map((i) => corpus.wordIds[i]);
  const masking: MaskingOptions = {
    maskTokenId: mask, vocabSize: tokenizer.totalVocabSize, specialIds: tokenizer.allSpecialIds,
    mlmProbability: s.mlmProbability ?? 0.15, wholeWordMasking: s.wholeWordMasking ?? false, seed: a.seed,
  };
  // The held-out blocks get one fixed masking, so before and after compare like with like.
  const evalSet: Example[] = evalIdx.map((i) => {
    const m = maskTokens(corpus.examples[i].input_ids, masking, { epoch: EVAL_EPOCH, index: i }, corpus.wordIds[i]);
    return { input_ids: m.input_ids, token_type_ids: corpus.examples[i].token_type_ids, label: m.labels };
  });
  const params = model.parameters().reduce((n, p) => n + p.data.length, 0);
  log(`pretraining (${start.description}): ${(params / 1e6).toFixed(2)}M parameters, vocabulary ${tokenizer.totalVocabSize}; ` +
    `${corpus.documents} documents, ${corpus.tokens} tokens in ${corpus.examples.length} blocks of up to ${a.max_length} (${train.length} train, ${evalSet.length} held out); ` +
    `masking ${masking.mlmProbability}${masking.wholeWordMasking ? " (whole words)" : ""}`);
  const padId = tokenizer.padTokenId ?? 0;
  if (a.eval_strategy !== "no" && evalSet.length === 0) throw new WhetError(`pretrain: eval_strategy "${a.eval_strategy}" needs held-out blocks: set --validation-split above 0`);
  const evalLossBefore = evalSet.length && !resume ? await mlmLoss(model, evalSet, padId, a) : null;
  if (evalLossBefore !== null) log(`held-out masked-LM loss before training: ${evalLossBefore.toFixed(4)}`);

  const trainer = new Trainer({
    model, args: a, train, eval: evalSet, labels: "masked_token", padId, tokenizer, log: s.log, task: "masked-lm",
    transformBatch: mlmTransform({ ...masking, wordIds: (i) => trainWords[i] }),
    runInfo: { command: process.argv.slice(2), pretraining: { start: start.description, ...s.runInfo, mlm_probability: masking.mlmProbability, whole_word_masking: masking.wholeWordMasking, line_by_line: !!s.lineByLine, blocks: corpus.examples.length, tokens: corpus.tokens }, whet: WHET_VERSION },
  });
  const result = await trainer.train();
  const evalLoss = evalSet.length && !result.interrupted ? await mlmLoss(model, evalSet, padId, a) : null;
  const out = {
    global_step: result.globalStep, train_loss: result.trainLoss, eval_loss_before: evalLossBefore, eval_loss: evalLoss,
    perplexity: evalLoss === null ? null : Math.exp(evalLoss), eval_blocks: evalSet.length, train_blocks: train.length, tokens: corpus.tokens,
  };
  if (!result.interrupted) await writeTextAtomic(join(a.output_dir, "eval_results.json"), JSON.stringify(out, null, 1));
  if (evalLoss !== null) log(`held-out masked-LM loss after training: ${evalLoss.toFixed(4)} (perplexity ${out.perplexity!.toFixed(1)})`);
  return {
    outputDir: a.output_dir, model, tokenizer, globalStep: result.globalStep, trainLoss: result.trainLoss, evalLossBefore, evalLoss, perplexity: out.perplexity,
    trainBlocks: train.length, evalBlocks: evalSet.length, tokens: corpus.tokens, interrupted: result.interrupted,
  };
}

/** Mean masked-LM loss over every predicted token of `examples` (eval mode: no dropout). */
export async function mlmLoss(model: TaskModel, examples: readonly Example[], padId: number, a: TrainingArguments): Promise<number> {
  const ev = await Evaluator.create({ model, examples, labels: "masked_token", padId, batchSize: a.per_device_eval_batch_size, threads: a.threads });
  try {
    return (await ev.predict()).loss;
  } finally {
    await ev.release();
  }
}

/** Keys of a run config that describe the data, the model and the masking rather than TrainingArguments. */
const DATA_KEYS = [
  "model", "config_from", "model_type", "tokenizer", "train_tokenizer", "vocab_size", "do_lower_case", "train_file", "text_field",
  "validation_split", "mlm_probability", "whole_word_masking", "line_by_line", ...ARCH_KEYS,
] as const;

/** `whet pretrain`: masked-LM pretraining, continued or from scratch, on a text corpus. */
export function pretrainCommand(): Command {
  const cmd = new Command("pretrain")
    .description("masked-language-model pretraining on a text corpus: continue a model's pretraining, or start one from a config with a vocabulary trained on the corpus")
    .option("--model <dir-or-id>", "continue pretraining this model (its masked-LM head is loaded, or drawn fresh)")
    .option("--config-from <dir-or-id>", "start from fresh weights with this model's config (and its tokenizer, unless --train-tokenizer or --tokenizer)")
    .option("--model-type <type>", "start from fresh weights with transformers' default config of this type (bert, distilbert, …)")
    .option("--tokenizer <dir-or-id>", "tokenizer for a fresh model")
    .option("--train-tokenizer", "train a WordPiece vocabulary on the corpus first (bert, distilbert)")
    .option("--vocab-size <n>", "size of the trained vocabulary, special tokens included (default 30000)", Number)
    .option("--do-lower-case <bool>", "lower-case and strip accents in the trained tokenizer (default true)", (v) => v !== "false")
    .option("--train-file <file>", "corpus: .txt (one document per line) or .jsonl (a text field per line)")
    .option("--text-field <name>", "JSON Lines: the field holding the text (default text)")
    .option("--validation-split <fraction>", "share of the blocks held out to measure the masked-LM loss before and after (default 0.05; 0 turns it off)", Number)
    .option("--mlm-probability <p>", "share of the tokens to predict (default 0.15)", Number)
    .option("--whole-word-masking", "predict every piece of a chosen word together")
    .option("--line-by-line", "one example per line, truncated to max_length (default: lines joined and cut into blocks of max_length)")
    .option("--config <file>", "run config (YAML or JSON) with any of these options; flags override it");
  for (const k of ARCH_KEYS) cmd.option(`--${k.replace(/_/g, "-")} <n>`, `${k} of a fresh model's config`, Number);
  addTrainingOptions(cmd);
  return cmd.action(async (opts: Record<string, unknown>) => {
    const fileCfg = opts.config ? readRunConfig(opts.config as string) : {};
    const data: Record<string, unknown> = {};
    const camel = (k: string) => k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
    for (const k of DATA_KEYS) {
      if (k in fileCfg) data[k] = fileCfg[k];
      delete fileCfg[k];
      if (opts[camel(k)] !== undefined) data[k] = opts[camel(k)];
    }
    if (!data.train_file) throw new WhetError("pretrain: --train-file is required (.txt, one document per line, or .jsonl)");
    // Unless asked otherwise, no evaluation during training (the held-out loss is measured around it).
    const args = resolveArguments({ eval_strategy: "no", ...fileCfg, ...trainingFlags(opts) }, "pretrain");
    const documents = await readCorpus(data.train_file as string, { textField: data.text_field as string | undefined });
    const architecture: Partial<Record<ArchKey, number>> = {};
    for (const k of ARCH_KEYS) if (data[k] !== undefined) architecture[k] = Number(data[k]);
    const out = await prepareRunOutput(args, [data.model, data.config_from, data.tokenizer, data.train_file].map((x) => x as string | undefined));
    args.output_dir = out.workDir;
    const r = await out.run(() => runPretrain({
      model: data.model as string | undefined, configFrom: data.config_from as string | undefined, modelType: data.model_type as string | undefined,
      tokenizer: data.tokenizer as string | undefined, trainTokenizer: Boolean(data.train_tokenizer), vocabSize: data.vocab_size as number | undefined,
      lowercase: data.do_lower_case as boolean | undefined, architecture, documents, args,
      validationSplit: data.validation_split as number | undefined, mlmProbability: data.mlm_probability as number | undefined,
      wholeWordMasking: Boolean(data.whole_word_masking), lineByLine: Boolean(data.line_by_line),
      runInfo: { train_file: data.train_file, train_sha256: createHash("sha256").update(readFileSync(data.train_file as string)).digest("hex") },
    }));
    console.log(JSON.stringify({
      output_dir: out.requested, global_step: r.globalStep, train_loss: r.trainLoss, eval_loss_before: r.evalLossBefore, eval_loss: r.evalLoss,
      perplexity: r.perplexity, vocab_size: r.tokenizer.totalVocabSize, train_blocks: r.trainBlocks, eval_blocks: r.evalBlocks, interrupted: r.interrupted,
    }));
    if (r.interrupted) process.exitCode = 130;
  });
}
