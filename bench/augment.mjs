#!/usr/bin/env node
// Does EDA help small training sets? Fine-tunes a model on N random examples of SST-2 and TREC-6
// (../shared/data) with and without EDA (whet's `augment: {method: eda}`), several seeds each,
// and prints test accuracy side by side. Also a step-matched baseline ("long": no augmentation,
// as many optimizer steps as the EDA run takes), since EDA's bigger training set alone means
// more steps. A benchmark, not a test: it takes minutes to hours.
//
// usage: node bench/augment.mjs --model DIR [--datasets sst2,trec] [--sizes 200,500] [--seeds 1,2,3]
//          [--num-aug 4] [--alpha 0.1] [--epochs 5] [--lr 1e-3] [--batch 32] [--max-length 64]
//          [--threads 1] [--no-long] [--eval-rows N]
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
    model: { type: "string" }, datasets: { type: "string", default: "sst2,trec" }, sizes: { type: "string", default: "200,500" },
    seeds: { type: "string", default: "1,2,3" }, "num-aug": { type: "string", default: "4" }, alpha: { type: "string", default: "0.1" },
    epochs: { type: "string", default: "5" }, lr: { type: "string", default: "1e-3" }, batch: { type: "string", default: "32" },
    "max-length": { type: "string", default: "64" }, threads: { type: "string", default: "1" }, "no-long": { type: "boolean", default: false },
    "eval-rows": { type: "string" },
  },
});
if (!o.model) {
  console.error("usage: node bench/augment.mjs --model DIR [...] (see the header of this file)");
  process.exit(2);
}
const data = resolve(root, "..", "shared", "data");
if (!existsSync(data)) {
  console.error(`NOTE: ${data} is absent: nothing to measure`);
  process.exit(0);
}
const EVAL_SPLIT = { sst2: "validation", trec: "test" };
const { loadTextDataset } = await dist("data/datasets.js");
const { LabelMap } = await dist("data/labels.js");
const { Rng } = await dist("core/rng.js");
const { augmentTextRows } = await dist("data/augment/augment_rows.js");
const { parseAugmentSpec } = await dist("data/augment/augment_spec.js");
const { fromPretrained } = await dist("models/pretrained.js");
const { loadTokenizer } = await dist("tokenizers/index.js");
const { resolveArguments } = await dist("train/arguments.js");
const { Trainer } = await dist("train/trainer.js");
const { Evaluator } = await dist("train/evaluator.js");

const tok = await loadTokenizer(o.model);
const maxLength = Number(o["max-length"]), batch = Number(o.batch), epochs = Number(o.epochs);

async function encode(rows, labels) {
  const b = await tok.encodeBatch(rows.map((r) => r.text), null, { maxLength, truncation: true, padding: false });
  return b.encodings.map((e, i) => ({ input_ids: e.ids, token_type_ids: e.typeIds, label: labels.encode(rows[i].label) }));
}

/** Fine-tune on `rows` for `steps` optimizer steps (or `epochs`), then score on the test set. */
async function run(train, test, labels, seed, { steps } = {}) {
  const out = await mkdtemp(join(tmpdir(), "whet-augbench-"));
  try {
    const args = resolveArguments({
      output_dir: out, learning_rate: Number(o.lr), num_train_epochs: epochs, ...(steps ? { max_steps: steps } : {}),
      per_device_train_batch_size: batch, eval_strategy: "no", save_strategy: "no", logging_steps: 1000, seed,
      threads: Number(o.threads), max_length: maxLength,
    });
    const { model } = await fromPretrained(o.model, { task: "sequence-classification", labels: [...labels.names], seed });
    const trainer = new Trainer({ model, args, train: await encode(train, labels), labels: "class", labelNames: [...labels.names], padId: tok.padTokenId ?? 0, log: () => {} });
    await trainer.train();
    const ev = await Evaluator.create({ model, examples: test, labels: "class", padId: tok.padTokenId ?? 0, batchSize: 64, threads: args.threads });
    const m = await ev.evaluate();
    await ev.release();
    return m.accuracy;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const results = [];
for (const name of o.datasets.split(",")) {
  const full = (await loadTextDataset(data, name, "train")).rows;
  let testRows = (await loadTextDataset(data, name, EVAL_SPLIT[name])).rows;
  if (o["eval-rows"]) testRows = testRows.slice(0, Number(o["eval-rows"]));
  const labels = LabelMap.fit(full.map((r) => r.label));
  const test = await encode(testRows, labels);
  for (const size of o.sizes.split(",").map(Number)) {
    const acc = { none: [], eda: [], long: [] };
    let grown = 0;
    for (const seed of o.seeds.split(",").map(Number)) {
      const t0 = Date.now();
      const train = new Rng(seed, size, 0xbe4c).permutation(full.length).slice(0, size).map((i) => full[i]);
      const spec = parseAugmentSpec({ method: "eda", num_aug: Number(o["num-aug"]), alpha_sr: Number(o.alpha), alpha_ri: Number(o.alpha), alpha_rs: Number(o.alpha), p_rd: Number(o.alpha) });
      const aug = (await augmentTextRows(train, spec, { seed })).rows;
      grown = aug.length;
      acc.none.push(await run(train, test, labels, seed));
      acc.eda.push(await run(aug, test, labels, seed));
      if (!o["no-long"]) acc.long.push(await run(train, test, labels, seed, { steps: Math.ceil(aug.length / batch) * epochs }));
      console.error(`[${name} n=${size} seed ${seed}] none ${(acc.none.at(-1) * 100).toFixed(1)}  eda ${(acc.eda.at(-1) * 100).toFixed(1)}` +
        (o["no-long"] ? "" : `  long ${(acc.long.at(-1) * 100).toFixed(1)}`) + `  (${aug.length} rows with EDA, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    const pct = (xs) => xs.length ? `${(mean(xs) * 100).toFixed(1)} ± ${(sd(xs) * 100).toFixed(1)}` : "-";
    results.push({ dataset: name, train_rows: size, eda_rows: grown, none: pct(acc.none), eda: pct(acc.eda), long: pct(acc.long), raw: acc });
  }
}
console.log(`\nEDA num_aug ${o["num-aug"]}, alpha ${o.alpha}; ${epochs} epochs, lr ${o.lr}, batch ${batch}, max length ${maxLength}; seeds ${o.seeds}; accuracy % (mean ± sd)`);
console.log("dataset  train rows  with EDA  none           EDA            none, EDA's steps");
for (const r of results) console.log(`${r.dataset.padEnd(8)} ${String(r.train_rows).padStart(10)}  ${String(r.eda_rows).padStart(8)}  ${r.none.padEnd(13)}  ${r.eda.padEnd(13)}  ${r.long}`);
console.log(JSON.stringify({ bench: "augment", model: o.model, options: o, results }));
