// Trainer.evaluate / Trainer.predict (transformers' shapes) and where the pad id comes from.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Rng } from "../core/rng.js";
import type { PretrainedConfig } from "../io/config.js";
import { createModel, type Task, type TaskModel } from "../models/auto.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { resolveArguments } from "./arguments.js";
import type { Example } from "../data/collate.js";
import { resolvePadId, Trainer, type TrainerOptions } from "./trainer.js";

const CONFIG = {
  model_type: "bert", vocab_size: 40, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 24,
  max_position_embeddings: 32, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
  id2label: { 0: "neg", 1: "pos", 2: "mixed" },
} as unknown as PretrainedConfig;

/** The label is which of three token ranges dominates the text; lengths vary, so batches pad. */
function data(n: number, seed: number): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const label = rng.int(3);
    const len = 3 + rng.int(8);
    const ids = [1, ...Array.from({ length: len }, () => (rng.uniform() < 0.8 ? 5 + label * 10 + rng.int(10) : 5 + rng.int(30))), 2];
    return { input_ids: ids, token_type_ids: ids.map(() => 0), label };
  });
}

function model(extra: Record<string, unknown> = {}, task: Task = "sequence-classification"): TaskModel {
  return createModel({ ...structuredClone(CONFIG), ...extra } as PretrainedConfig, task, 42);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-predict-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const args = (dir: string) => resolveArguments({
  output_dir: dir, learning_rate: 5e-3, per_device_train_batch_size: 8, per_device_eval_batch_size: 5,
  num_train_epochs: 1, eval_strategy: "epoch", save_strategy: "no", threads: 1,
});
const train = data(40, 1), evalSet = data(13, 2);
const quiet = () => {};

function argmaxRows(p: { shape: readonly number[]; data: ArrayLike<number> }): number[] {
  const [n, k] = p.shape;
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (p.data[i * k + c] > p.data[i * k + best]) best = c;
    return best;
  });
}

test("Trainer.evaluate repeats the run's final evaluation under eval_ keys; predict gives logits, labels, test_ metrics", async () => {
  await withDir(async (dir) => {
    const trainer = new Trainer({ model: model(), args: args(dir), train, eval: evalSet, labels: "class", padId: 0, log: quiet });
    const result = await trainer.train();
    const ev = await trainer.evaluate();
    assert.equal(ev.eval_loss, result.metrics.loss);
    assert.equal(ev.eval_accuracy, result.metrics.accuracy);
    assert.equal(ev.epoch, 1);
    for (const k of ["eval_runtime", "eval_samples_per_second", "eval_steps_per_second"]) assert.ok(ev[k] >= 0, k);
    assert.ok(!("loss" in ev) && !("accuracy" in ev), "every metric carries the prefix");

    const out = await trainer.predict(evalSet);
    assert.deepEqual(out.predictions.shape, [13, 3]);
    assert.equal(out.predictions.dtype, "float32");
    assert.deepEqual(out.label_ids!.shape, [13]);
    assert.deepEqual(Array.from(out.label_ids!.data as BigInt64Array, Number), evalSet.map((e) => e.label));
    assert.equal(out.metrics.test_loss, result.metrics.loss);
    const predicted = argmaxRows({ shape: out.predictions.shape, data: out.predictions.data as Float32Array });
    const accuracy = predicted.filter((p, i) => p === evalSet[i].label).length / evalSet.length;
    assert.equal(out.metrics.test_accuracy, accuracy, "the metrics are those of the returned logits");

    // A dataset given to evaluate, and another prefix.
    const other = await trainer.evaluate(train.slice(0, 7), { metricKeyPrefix: "train" });
    assert.ok("train_loss" in other && "train_accuracy" in other);

    // Without labels: the same logits, no label_ids, no loss.
    const bare = await trainer.predict(evalSet.map(({ input_ids, token_type_ids }) => ({ input_ids, token_type_ids })));
    assert.equal(bare.label_ids, null);
    assert.deepEqual(bare.predictions.shape, [13, 3]);
    (bare.predictions.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - Number(out.predictions.data[i])) < 1e-5, `logit ${i}`));
    assert.deepEqual(Object.keys(bare.metrics).sort(), ["test_runtime", "test_samples_per_second", "test_steps_per_second"]);
  });
});

test("Trainer.predict on token classification pads rows to the longest with -100, as transformers does", async () => {
  await withDir(async (dir) => {
    const tokens = data(6, 3).map((e) => ({ ...e, label: e.input_ids.map((_, t) => (t === 0 ? -100 : (t % 3))) }));
    const trainer = new Trainer({ model: model({}, "token-classification"), args: { ...args(dir), eval_strategy: "no" }, train: tokens,
      labels: "token", padId: 0, log: quiet });
    const out = await trainer.predict(tokens);
    const T = Math.max(...tokens.map((e) => e.input_ids.length));
    assert.deepEqual(out.predictions.shape, [6, T, 3]);
    assert.deepEqual(out.label_ids!.shape, [6, T]);
    const short = tokens.findIndex((e) => e.input_ids.length < T);
    const n = tokens[short].input_ids.length;
    assert.equal(Number(out.label_ids!.data[short * T + n]), -100, "labels padded with -100");
    assert.equal(out.predictions.data[(short * T + n) * 3], -100, "logits padded with -100");
    assert.notEqual(out.predictions.data[(short * T + n - 1) * 3], -100);
    assert.ok("test_overall_f1" in out.metrics || "test_f1" in out.metrics, Object.keys(out.metrics).join(", "));
  });
});

test("Trainer.evaluate/predict say what is wrong with the dataset", async () => {
  await withDir(async (dir) => {
    const trainer = new Trainer({ model: model(), args: { ...args(dir), eval_strategy: "no" }, train, labels: "class", padId: 0, log: quiet });
    await assert.rejects(trainer.evaluate(), /evaluate: no dataset given, and the Trainer was given no eval set/);
    await assert.rejects(trainer.predict([]), /predict: the dataset is empty/);
    const mixed = [evalSet[0], { input_ids: evalSet[1].input_ids }, evalSet[2]];
    await assert.rejects(trainer.predict(mixed), /predict: 1 of 3 examples have no label \(the first is example 1\)/);
    await assert.rejects(trainer.evaluate([{ input_ids: [1, 5, 2] }]), /evaluate: the examples have no labels; use predict/);
    assert.ok(!existsSync(join(dir, "model.safetensors")), "nothing is written before saveModel");
    await trainer.saveModel(join(dir, "saved"));
    const config = JSON.parse(readFileSync(join(dir, "saved", "config.json"), "utf8"));
    assert.deepEqual(config.architectures, ["BertForSequenceClassification"]);
    assert.ok(existsSync(join(dir, "saved", "model.safetensors")));
  });
});

test("the pad id: given, else the tokenizer's pad token, else config.json's pad_token_id, else a clear error", async () => {
  const tok = await loadTokenizer(fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/init", import.meta.url)));
  assert.equal(tok.padTokenId, 0);
  const base = { args: args("unused"), train, labels: "class" } as const;
  const with7 = model({ pad_token_id: 7 });
  assert.equal(resolvePadId({ ...base, model: with7, padId: 3, tokenizer: tok }), 3);
  assert.equal(resolvePadId({ ...base, model: with7, tokenizer: tok }), 0);
  assert.equal(resolvePadId({ ...base, model: with7 }), 7);
  const padless = model();
  delete padless.config.pad_token_id; // BertConfig's default is 0; other configs (GPT-2's) have none
  const noPad: TrainerOptions = { ...base, model: padless };
  assert.throws(() => resolvePadId(noPad), /cannot pad batches: no tokenizer was given and the model's config has no pad_token_id/);
  assert.throws(() => new Trainer(noPad), /cannot pad batches/);
  const noPadToken = { padTokenId: undefined, save: () => {} };
  assert.throws(() => resolvePadId({ ...base, model: padless, tokenizer: noPadToken }), /the tokenizer has no pad token/);
  assert.throws(() => resolvePadId({ ...base, model: model(), padId: -1 }), /non-negative integer, got -1/);
});
