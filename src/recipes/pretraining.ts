/**
 * Masked-LM pretraining as one call: continue a model's pretraining, or start a fresh one from a
 * config with a vocabulary trained on the corpus. `whet pretrain` and `whet demo` call it.
 *
 * @example
 * import { pretrain, resolveArguments } from "whetml";
 * const r = await pretrain({ modelType: "bert", trainTokenizer: true, vocabSize: 8000, architecture: { num_hidden_layers: 2 },
 *   documents, args: resolveArguments({ output_dir: "runs/mlm", max_length: 64 }) });
 * console.log(r.perplexity);
 */
import { join } from "node:path";
import { UsageError, WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import type { Example } from "../data/collate.js";
import { writeTextAtomic } from "../io/files.js";
import { maxSequenceLength, type TaskModel } from "../models/auto.js";
import type { Tokenizer } from "../tokenizers/index.js";
import type { TrainingArguments } from "../train/arguments.js";
import { listCheckpoints } from "../train/checkpoint.js";
import { Evaluator } from "../train/evaluator.js";
import { encodeForMlm, maskTokens, mlmTransform, type MaskingOptions } from "../train/mlm.js";
import { prepareRunOutput } from "../train/run_output.js";
import { Trainer, WHET_VERSION } from "../train/trainer.js";
import type { RecipeOptions } from "./finetune.js";
import { prepareStart, type StartSpec } from "./pretrain_start.js";

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
  /** Files the corpus was read from: the output folder may not be, contain or lie inside one. */
  inputs?: string[];
  /** Aborting it stops training after the current step with a checkpoint. */
  signal?: AbortSignal;
  /** Added after the Trainer's own callbacks. */
  callbacks?: RecipeOptions["callbacks"];
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
 * Masked-LM pretraining: the starting model and tokenizer (see pretrain_start.ts), the corpus
 * cut into blocks, masks drawn per epoch from (seed, epoch, block) inside the Trainer, the
 * model saved in Hugging Face layout (BertForMaskedLM…) with its tokenizer. The output folder is
 * checked before anything is written, and a finished run it replaces is swapped out only on success.
 */
export async function pretrain(s: PretrainSpec): Promise<PretrainResult> {
  const inputs = [s.model, s.configFrom, s.tokenizer, ...(s.inputs ?? [])];
  const out = await prepareRunOutput(s.args, inputs, s.log);
  const r = await out.run((work) => pretrainIn({ ...s, args: { ...s.args, output_dir: work } }));
  return { ...r, outputDir: out.requested };
}

/** pretrain() once the output folder is settled: everything is written into `s.args.output_dir`. */
async function pretrainIn(s: PretrainSpec): Promise<PretrainResult> {
  const a = s.args, log = s.log ?? ((l: string) => process.stderr.write(l + "\n"));
  if (s.documents.length === 0) throw new WhetError("pretrain: the corpus has no documents");
  const split = s.validationSplit ?? 0.05;
  if (!(split >= 0 && split < 1)) throw new UsageError(`pretrain: --validation-split must lie in [0, 1), got ${split}`);
  const resume = a.resume_from_checkpoint === true ? listCheckpoints(a.output_dir).at(-1) ?? null : typeof a.resume_from_checkpoint === "string" ? a.resume_from_checkpoint : null;
  const start = await prepareStart(s, s.documents, a, resume, log);
  const { model, tokenizer } = start;
  if (start.initialized.length) log(`newly initialised (not in the checkpoint): ${start.initialized.join(", ")}`);
  const c = model.config, positions = maxSequenceLength(c);
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
  if (a.eval_strategy !== "no" && evalSet.length === 0) throw new UsageError(`pretrain: eval_strategy "${a.eval_strategy}" needs held-out blocks: set --validation-split above 0`);
  const evalLossBefore = evalSet.length && !resume ? await mlmLoss(model, evalSet, padId, a) : null;
  if (evalLossBefore !== null) log(`held-out masked-LM loss before training: ${evalLossBefore.toFixed(4)}`);

  const trainer = new Trainer({
    model, args: a, train, eval: evalSet, labels: "masked_token", padId, tokenizer, log: s.log, task: "masked-lm", signal: s.signal, callbacks: s.callbacks,
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


/**
 * The former name of pretrain().
 *
 * @example
 * const result = await runPretrain(spec); // the same as pretrain(spec)
 */
export const runPretrain = pretrain;
