#!/usr/bin/env node
// Fine-tunes a model on SST-2, TREC-6 and ChnSentiCorp (../shared/data) and prints its accuracy
// beside the TF-IDF + logistic-regression baselines measured with scikit-learn on the same
// splits (../shared/data/README.md). A benchmark, not a test: it takes minutes to hours.
//
// usage: node bench/accuracy.mjs --model DIR_OR_ID [--datasets sst2,trec,chnsenticorp]
//          [--epochs 3] [--lr 5e-5] [--batch 32] [--max-length 64] [--max-train-rows N] [--threads 2]
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dist = (p) => import(join(root, "dist", p));
const { values: o } = parseArgs({
  options: {
    model: { type: "string" }, datasets: { type: "string", default: "sst2,trec,chnsenticorp" }, epochs: { type: "string", default: "3" },
    lr: { type: "string", default: "5e-5" }, batch: { type: "string", default: "32" }, "max-length": { type: "string", default: "64" },
    "max-train-rows": { type: "string" }, threads: { type: "string", default: "2" }, seed: { type: "string", default: "42" },
  },
});
if (!o.model) {
  console.error("usage: node bench/accuracy.mjs --model DIR_OR_ID [...] (see the header of this file)");
  process.exit(2);
}
const data = resolve(root, "..", "shared", "data");
if (!existsSync(data)) {
  console.error(`NOTE: ${data} is absent: nothing to measure`);
  process.exit(0);
}
const BASELINE = { sst2: 82.1, trec: 87.8, chnsenticorp: 91.25 };
const EVAL_SPLIT = { sst2: "validation", trec: "test", chnsenticorp: "validation" };
const { loadTextDataset } = await dist("data/datasets.js");
const { LabelMap } = await dist("data/labels.js");
const { fromPretrained } = await dist("models/pretrained.js");
const { resolveModel } = await dist("io/hub.js");
const { loadTokenizer } = await dist("tokenizers/index.js");
const { resolveArguments } = await dist("train/arguments.js");
const { Trainer } = await dist("train/trainer.js");
const { encodeRows } = await dist("data/examples.js");

const dir = await resolveModel(o.model);
const tok = await loadTokenizer(dir);
const rows = [];
for (const name of o.datasets.split(",")) {
  const t0 = Date.now();
  let train = (await loadTextDataset(data, name, "train")).rows;
  const test = (await loadTextDataset(data, name, EVAL_SPLIT[name])).rows;
  if (o["max-train-rows"]) train = train.slice(0, Number(o["max-train-rows"]));
  const labels = LabelMap.fit(train.map((r) => r.label));
  const maxLength = Number(o["max-length"]);
  const enc = await encodeRows(train, tok, maxLength, labels);
  const evalEnc = await encodeRows(test, tok, maxLength, labels);
  const out = await mkdtemp(join(tmpdir(), `whet-acc-${name}-`));
  try {
    const args = resolveArguments({
      output_dir: out, learning_rate: Number(o.lr), num_train_epochs: Number(o.epochs), per_device_train_batch_size: Number(o.batch),
      eval_strategy: "no", save_strategy: "no", logging_steps: 100, seed: Number(o.seed), threads: Number(o.threads), max_length: maxLength,
    });
    const { model } = await fromPretrained(dir, { task: "sequence-classification", labels: [...labels.names], seed: args.seed });
    const trainer = new Trainer({ model, args, train: enc.examples, eval: evalEnc.examples, labels: "class", labelNames: [...labels.names], padId: tok.padTokenId ?? 0, log: (l) => console.error(`[${name}] ${l}`) });
    const { Evaluator } = await dist("train/evaluator.js");
    await trainer.train();
    const ev = await Evaluator.create({ model, examples: evalEnc.examples, labels: "class", padId: tok.padTokenId ?? 0, batchSize: 64, threads: args.threads });
    const m = await ev.evaluate();
    await ev.release();
    rows.push({ dataset: name, split: EVAL_SPLIT[name], train_rows: train.length, accuracy: Math.round(m.accuracy * 1000) / 10, baseline_tfidf_lr: BASELINE[name], minutes: Math.round((Date.now() - t0) / 600) / 100 });
    console.error(`[${name}] accuracy ${(m.accuracy * 100).toFixed(1)}% (TF-IDF + LR baseline ${BASELINE[name]}%)`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
console.log("\ndataset       split       train rows  whet acc %  TF-IDF+LR %  minutes");
for (const r of rows) console.log(`${r.dataset.padEnd(13)} ${r.split.padEnd(11)} ${String(r.train_rows).padStart(10)}  ${String(r.accuracy).padStart(10)}  ${String(r.baseline_tfidf_lr).padStart(11)}  ${String(r.minutes).padStart(7)}`);
console.log(JSON.stringify({ bench: "accuracy", model: o.model, rows }));
