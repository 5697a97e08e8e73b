#!/usr/bin/env node
// Distillation on SST-2 (../shared/data): a 4-layer BERT teacher fine-tuned on the labels, then a
// 2-layer student made of the teacher's first and last layers, trained two ways from the same
// start — on the teacher's softened logits mixed with the labels (whet distill), and on the
// labels alone (the control). Prints accuracy on the dev set, parameters and inference speed of
// the three side by side. A benchmark, not a test: about an hour on 2 cores.
//
// No pretrained weights are reachable on these machines, so the teacher starts from random
// weights with bert-base-uncased's vocabulary (../shared/data/vocab).
//
// usage: node bench/distill.mjs [--teacher-layers 4] [--student-layers 2] [--hidden 256]
//          [--epochs 2] [--student-epochs 2] [--lr 3e-4] [--alpha 0.5] [--temperature 2]
//          [--max-length 64] [--max-train-rows N] [--threads 2] [--seed 42]
// Needs a build (npm run build). stdout: a table, then one JSON line with every number.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dist = (p) => import(join(root, "dist", p));
const { values: o } = parseArgs({
  options: {
    "teacher-layers": { type: "string", default: "4" }, "student-layers": { type: "string", default: "2" }, hidden: { type: "string", default: "256" },
    epochs: { type: "string", default: "2" }, "student-epochs": { type: "string", default: "2" }, lr: { type: "string", default: "3e-4" },
    alpha: { type: "string", default: "0.5" }, temperature: { type: "string", default: "2" }, "max-length": { type: "string", default: "64" },
    "max-train-rows": { type: "string" }, threads: { type: "string", default: "2" }, seed: { type: "string", default: "42" },
  },
});
const data = resolve(root, "..", "shared", "data");
if (!existsSync(join(data, "sst2")) || !existsSync(join(data, "vocab"))) {
  console.error(`NOTE: ${data}/sst2 or /vocab is absent: nothing to measure`);
  process.exit(0);
}
const { loadTextDataset } = await dist("data/datasets.js");
const { LabelMap } = await dist("data/labels.js");
const { createModel } = await dist("models/auto.js");
const { loadTokenizer } = await dist("tokenizers/index.js");
const { resolveArguments } = await dist("train/arguments.js");
const { Trainer } = await dist("train/trainer.js");
const { Evaluator } = await dist("train/evaluator.js");
const { distillation, teacherLogits } = await dist("train/distill_loss.js");
const { encodeRows } = await dist("data/examples.js");
const { shrinkTeacher } = await dist("models/shrink.js");

const seed = Number(o.seed), threads = Number(o.threads), maxLength = Number(o["max-length"]), hidden = Number(o.hidden);
const work = await mkdtemp(join(tmpdir(), "whet-distill-bench-"));
const log = (l) => console.error(l);
try {
  // bert-base-uncased's WordPiece vocabulary, read from the shared folder (not copied into the project).
  const tokDir = join(work, "tokenizer");
  mkdirSync(tokDir);
  copyFileSync(join(data, "vocab", "bert-base-uncased-vocab.txt"), join(tokDir, "vocab.txt"));
  writeFileSync(join(tokDir, "tokenizer_config.json"), JSON.stringify({ tokenizer_class: "BertTokenizer", do_lower_case: true }));
  const tok = await loadTokenizer(tokDir);
  const padId = tok.padTokenId ?? 0;

  let train = (await loadTextDataset(data, "sst2", "train")).rows;
  const dev = (await loadTextDataset(data, "sst2", "validation")).rows;
  if (o["max-train-rows"]) train = train.slice(0, Number(o["max-train-rows"]));
  const labels = LabelMap.fit(train.map((r) => r.label));
  const trainEx = (await encodeRows(train, tok, maxLength, labels)).examples;
  const devEx = (await encodeRows(dev, tok, maxLength, labels)).examples;
  const config = {
    model_type: "bert", vocab_size: tok.vocabSize, hidden_size: hidden, num_hidden_layers: Number(o["teacher-layers"]), num_attention_heads: Math.max(1, hidden / 64),
    intermediate_size: 4 * hidden, max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
    id2label: Object.fromEntries(labels.names.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.names.map((l, i) => [l, i])),
  };

  const fit = async (name, model, epochs, extra = {}) => {
    const t0 = Date.now();
    const args = resolveArguments({
      output_dir: join(work, name), learning_rate: Number(o.lr), num_train_epochs: epochs, per_device_train_batch_size: 32, per_device_eval_batch_size: 128,
      warmup_ratio: 0.1, weight_decay: 0.01, eval_strategy: "no", save_strategy: "no", logging_steps: 200, seed, threads, max_length: maxLength,
    }, "bench");
    await new Trainer({ model, args, train: extra.train ?? trainEx, labels: "class", labelNames: [...labels.names], padId, loss: extra.loss, log: (l) => log(`[${name}] ${l}`) }).train();
    return (Date.now() - t0) / 60000;
  };
  const score = async (model) => {
    const ev = await Evaluator.create({ model, examples: devEx, labels: "class", padId, batchSize: 128, threads });
    await ev.evaluate(); // warm-up: compile, arena
    const t0 = performance.now();
    const m = await ev.evaluate();
    const s = (performance.now() - t0) / 1000;
    await ev.release();
    const tokens = devEx.reduce((n, e) => n + e.input_ids.length, 0);
    return { accuracy: Math.round(m.accuracy * 1000) / 10, params: model.parameters().reduce((n, p) => n + p.size, 0), eval_tokens_per_s: Math.round(tokens / s) };
  };

  const rows = [];
  log(`SST-2: ${trainEx.length} training sentences, ${devEx.length} dev; teacher ${config.num_hidden_layers} layers, hidden ${hidden}, from random weights`);
  const teacher = createModel(config, "sequence-classification", seed);
  const tMin = await fit("teacher", teacher, Number(o.epochs));
  rows.push({ model: `teacher (${config.num_hidden_layers} layers)`, ...(await score(teacher)), train_minutes: tMin });

  const logits = await teacherLogits(teacher, trainEx, padId, 128, threads);
  const distilled = shrinkTeacher(teacher, Number(o["student-layers"]), seed);
  const control = shrinkTeacher(teacher, Number(o["student-layers"]), seed);
  const dMin = await fit("student-distilled", distilled, Number(o["student-epochs"]), {
    train: trainEx.map((e, i) => ({ ...e, teacher: logits[i] })), loss: distillation({ alpha: Number(o.alpha), temperature: Number(o.temperature) }),
  });
  rows.push({ model: `student (${o["student-layers"]} layers), distilled`, ...(await score(distilled)), train_minutes: dMin });
  const cMin = await fit("student-labels", control, Number(o["student-epochs"]));
  rows.push({ model: `student (${o["student-layers"]} layers), labels only`, ...(await score(control)), train_minutes: cMin });

  console.log(`\nSST-2 dev (${devEx.length} sentences); distillation alpha ${o.alpha}, temperature ${o.temperature}; ${threads} threads`);
  console.log("model                              accuracy %    params  eval tokens/s  train min");
  for (const r of rows) {
    console.log(`${r.model.padEnd(34)} ${String(r.accuracy).padStart(10)} ${String(r.params).padStart(9)} ${String(r.eval_tokens_per_s).padStart(14)} ${r.train_minutes.toFixed(1).padStart(10)}`);
  }
  console.log(JSON.stringify({ bench: "distill", dataset: "sst2", options: o, rows }));
} finally {
  await rm(work, { recursive: true, force: true });
}
