#!/usr/bin/env node
// Entity F1 (seqeval, as `whet train --task token-classification` reports it) on WNUT-17 and
// WikiANN-en from ../shared/data, for one model and a list of learning rates, with what the model
// predicts: the share of words tagged other than O and how many entities it proposes. A benchmark,
// not a test: each run takes minutes. docs/ner_f1.md holds the table it produced and what it shows.
//
// usage: node bench/ner_f1.mjs --model DIR_OR_ID [--datasets wnut17,wikiann_en] [--lrs 5e-5,1e-3]
//          [--epochs 3] [--batch 32] [--max-length 128] [--max-train N] [--max-eval N]
//          [--class-weights balanced] [--eval-on-train] [--threads 2] [--seed 42] [--json FILE]
//          [--dump-examples PREFIX]
// --dump-examples writes PREFIX-<dataset>.json (tag names, the encoded training and evaluation
// sentences) for bench/ner_torch.py, which runs the same fine-tune in PyTorch as a cross-check.
// --max-train / --max-eval keep the first N sentences of each split (WikiANN has 20,000 / 10,000).
import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dist = (p) => import(join(root, "dist", p));
const { values: o } = parseArgs({
  options: {
    model: { type: "string" }, datasets: { type: "string", default: "wnut17,wikiann_en" }, lrs: { type: "string", default: "5e-5,1e-3" },
    epochs: { type: "string", default: "3" }, batch: { type: "string", default: "32" }, "max-length": { type: "string", default: "128" },
    "max-train": { type: "string" }, "max-eval": { type: "string" }, "class-weights": { type: "string" }, "eval-on-train": { type: "boolean" },
    "dump-examples": { type: "string" },
    threads: { type: "string", default: "2" }, seed: { type: "string", default: "42" }, json: { type: "string" },
  },
});
if (!o.model) {
  console.error("usage: node bench/ner_f1.mjs --model DIR_OR_ID [...] (see the header of this file)");
  process.exit(2);
}
const data = resolve(root, "..", "shared", "data");
if (!existsSync(join(data, "wnut17")) && !existsSync(join(data, "wikiann_en"))) {
  console.error(`NOTE: ${data} (wnut17/, wikiann_en/) is absent: nothing to measure`);
  process.exit(0);
}
const FILES = {
  wnut17: { train: "wnut17/wnut17train.conll", eval: "wnut17/emerging.dev.conll", split: "dev" },
  wikiann_en: { train: "wikiann_en/train", eval: "wikiann_en/dev", split: "dev" },
};
const { prepareData } = await dist("data/prepare.js");
const { readConfig } = await dist("io/config.js");
const { resolveModel } = await dist("io/hub.js");
const { fromPretrained } = await dist("models/pretrained.js");
const { loadTokenizer } = await dist("tokenizers/index.js");
const { resolveArguments } = await dist("train/arguments.js");
const { Trainer } = await dist("train/trainer.js");
const { standardMetrics } = await dist("train/evaluator.js");
const { entities, seqevalReport } = await dist("train/seqeval.js");
const { readConll } = await dist("data/conll.js");

/**
 * The CoNLL shared tasks' reference point: tag each word with its most frequent tag in the training
 * file (case-sensitive), O for unseen words; scored by seqeval on the same evaluation sentences.
 */
async function memorizationBaseline(trainFile, evalFile, maxEval) {
  const counts = new Map();
  for (const s of (await readConll(trainFile)).sentences) {
    s.tokens.forEach((w, i) => {
      const c = counts.get(w) ?? new Map();
      c.set(s.tags[i], (c.get(s.tags[i]) ?? 0) + 1);
      counts.set(w, c);
    });
  }
  const best = (w) => {
    const c = counts.get(w);
    return c ? [...c].sort((a, b) => b[1] - a[1])[0][0] : "O";
  };
  let sentences = (await readConll(evalFile)).sentences;
  if (maxEval) sentences = sentences.slice(0, maxEval);
  return seqevalReport(sentences.map((s) => s.tags), sentences.map((s) => s.tokens.map(best))).micro;
}

/** The standard metrics plus what the model predicts at the scored (first sub-word) positions. */
function metricsWithPredictions(labelNames) {
  return (p) => {
    const m = standardMetrics(p, Object.fromEntries(labelNames.map((n, i) => [String(i), n])));
    let words = 0, nonO = 0, refNonO = 0, predEntities = 0;
    p.logits.forEach((row, r) => {
      const tags = [];
      (p.labels[r]).forEach((y, t) => {
        if (y === -100) return;
        let best = 0;
        for (let c = 1; c < p.numLabels; c++) if (row[t * p.numLabels + c] > row[t * p.numLabels + best]) best = c;
        tags.push(labelNames[best]);
        words++;
        if (labelNames[best] !== "O") nonO++;
        if (labelNames[y] !== "O") refNonO++;
      });
      predEntities += entities(tags).length;
    });
    return { ...m, words, predicted_non_o: nonO / words, reference_non_o: refNonO / words, predicted_entities: predEntities };
  };
}

const dir = await resolveModel(o.model);
const tok = await loadTokenizer(dir);
const results = [], baselines = [];
for (const name of o.datasets.split(",")) {
  const f = FILES[name];
  if (!f) throw new Error(`unknown dataset "${name}" (known: ${Object.keys(FILES).join(", ")})`);
  if (!existsSync(join(data, f.train))) {
    console.error(`NOTE: ${join(data, f.train)} is absent: ${name} skipped`);
    continue;
  }
  const maxLength = Number(o["max-length"]);
  const prepared = await prepareData(
    { task: "token-classification", trainFile: join(data, f.train), validationFile: join(data, f.eval) },
    { tokenizer: tok, maxLength, seed: Number(o.seed), holdOut: true, modelLabels: readConfig(dir), log: (l) => console.error(`[${name}] ${l}`) },
  );
  const train = o["max-train"] ? prepared.train.slice(0, Number(o["max-train"])) : prepared.train;
  // --eval-on-train scores the training sentences themselves: can the model fit them at all?
  const evalSet = o["eval-on-train"] ? train : o["max-eval"] ? prepared.eval.slice(0, Number(o["max-eval"])) : prepared.eval;
  console.error(`[${name}] ${prepared.reportText.split("\n").join(` | `)}`);
  if (o["dump-examples"]) {
    const rows = (xs) => xs.map((e) => ({ input_ids: e.input_ids, labels: e.label }));
    writeFileSync(`${o["dump-examples"]}-${name}.json`, JSON.stringify({ labels: prepared.labelNames, train: rows(train), eval: rows(evalSet) }));
  }
  const base = await memorizationBaseline(join(data, f.train), join(data, f.eval), o["max-eval"] && Number(o["max-eval"]));
  console.error(`[${name}] most-frequent-tag baseline: F1 ${base.f1.toFixed(4)} P ${base.precision.toFixed(4)} R ${base.recall.toFixed(4)}`);
  baselines.push({ dataset: name, split: f.split, ...base });
  for (const lr of o.lrs.split(",").map(Number)) {
    const t0 = Date.now();
    const out = await mkdtemp(join(tmpdir(), `whet-ner-${name}-`));
    const curve = [];
    try {
      const args = resolveArguments({
        output_dir: out, learning_rate: lr, num_train_epochs: Number(o.epochs), per_device_train_batch_size: Number(o.batch),
        per_device_eval_batch_size: 64, eval_strategy: "epoch", save_strategy: "no", logging_steps: 20, seed: Number(o.seed),
        threads: Number(o.threads), max_length: maxLength, ...(o["class-weights"] ? { class_weights: o["class-weights"] } : {}),
      });
      const { model } = await fromPretrained(dir, { task: "token-classification", labels: prepared.labelNames, seed: args.seed });
      const trainer = new Trainer({
        model, args, train, eval: evalSet, labels: "token", labelNames: prepared.labelNames, padId: tok.padTokenId ?? 0,
        computeMetrics: metricsWithPredictions(prepared.labelNames), log: () => {},
        callbacks: [{ onLog: (_s, _c, logs) => curve.push(logs) }],
      });
      const r = await trainer.train();
      const evals = curve.filter((l) => "eval_f1" in l);
      const last = evals.at(-1) ?? {};
      // [step, mean loss since the previous entry]; the last window may hold fewer than logging_steps steps.
      const losses = curve.filter((l) => "loss" in l).map((l) => [l.step, Math.round(l.loss * 1000) / 1000]);
      const row = {
        dataset: name, split: o["eval-on-train"] ? "train" : f.split, train_sentences: train.length, eval_sentences: evalSet.length, lr, epochs: Number(o.epochs),
        steps: r.globalStep, class_weights: o["class-weights"] ?? null, train_loss: r.trainLoss, eval_loss: last.eval_loss,
        precision: last.eval_precision, recall: last.eval_recall, f1: last.eval_f1, token_accuracy: last.eval_accuracy,
        predicted_non_o: last.eval_predicted_non_o, reference_non_o: last.eval_reference_non_o,
        predicted_entities: last.eval_predicted_entities, f1_per_epoch: evals.map((e) => e.eval_f1),
        loss_curve: losses, minutes: Math.round((Date.now() - t0) / 600) / 100,
      };
      results.push(row);
      console.error(`[${name}] lr ${lr}: F1 ${last.eval_f1?.toFixed(4)} P ${last.eval_precision?.toFixed(4)} R ${last.eval_recall?.toFixed(4)} ` +
        `predicted non-O ${(100 * last.eval_predicted_non_o).toFixed(2)}% (reference ${(100 * last.eval_reference_non_o).toFixed(2)}%), ` +
        `${last.eval_predicted_entities} entities proposed; loss ${losses.map(([st, l]) => `${st}:${l}`).join(" ")}; ${row.minutes} min`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }
}
const pct = (v) => (v === undefined ? "-" : (100 * v).toFixed(1).padStart(6));
console.log("\ndataset     train  eval     lr  steps  loss   F1 %    P %    R %  non-O pred/ref %  entities  minutes");
for (const r of results) {
  console.log(`${r.dataset.padEnd(10)} ${String(r.train_sentences).padStart(6)} ${String(r.eval_sentences).padStart(5)} ${String(r.lr).padStart(6)} ` +
    `${String(r.steps).padStart(6)} ${r.train_loss.toFixed(3)} ${pct(r.f1)} ${pct(r.precision)} ${pct(r.recall)}  ` +
    `${pct(r.predicted_non_o)} / ${pct(r.reference_non_o)}  ${String(r.predicted_entities).padStart(8)}  ${String(r.minutes).padStart(7)}`);
}
for (const b of baselines) {
  console.log(`${b.dataset.padEnd(10)} most-frequent-tag baseline (whole training file)     ${pct(b.f1)} ${pct(b.precision)} ${pct(b.recall)}`);
}
const line = JSON.stringify({ bench: "ner_f1", model: o.model, results, baselines });
console.log(line);
if (o.json) writeFileSync(o.json, line + "\n");
