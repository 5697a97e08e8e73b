import { Command } from "commander";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { WhetError } from "../core/errors.js";
import { readCorpus } from "../data/corpus.js";
import { ARCH_KEYS, type ArchKey } from "../recipes/pretrain_start.js";
import { pretrain } from "../recipes/pretraining.js";
import { resolveArguments } from "../train/arguments.js";
import { addTrainingOptions, readRunConfig, trainingFlags } from "./args_options.js";
import { stopOnSignals } from "./signals.js";

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
    const stop = stopOnSignals();
    const r = await pretrain({
      signal: stop.signal,
      model: data.model as string | undefined, configFrom: data.config_from as string | undefined, modelType: data.model_type as string | undefined,
      tokenizer: data.tokenizer as string | undefined, trainTokenizer: Boolean(data.train_tokenizer), vocabSize: data.vocab_size as number | undefined,
      lowercase: data.do_lower_case as boolean | undefined, architecture, documents, args,
      validationSplit: data.validation_split as number | undefined, mlmProbability: data.mlm_probability as number | undefined,
      wholeWordMasking: Boolean(data.whole_word_masking), lineByLine: Boolean(data.line_by_line),
      inputs: [data.train_file as string],
      runInfo: { train_file: data.train_file, train_sha256: createHash("sha256").update(readFileSync(data.train_file as string)).digest("hex") },
    }).finally(() => stop.dispose());
    console.log(JSON.stringify({
      output_dir: r.outputDir, global_step: r.globalStep, train_loss: r.trainLoss, eval_loss_before: r.evalLossBefore, eval_loss: r.evalLoss,
      perplexity: r.perplexity, vocab_size: r.tokenizer.totalVocabSize, train_blocks: r.trainBlocks, eval_blocks: r.evalBlocks, interrupted: r.interrupted,
    }));
    if (r.interrupted) process.exitCode = 130;
  });
}
