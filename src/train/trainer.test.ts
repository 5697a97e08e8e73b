import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import type { PretrainedConfig } from "../io/config.js";
import { createModel, type TaskModel } from "../models/auto.js";
import { resolveArguments, type TrainingArgumentsInput } from "./arguments.js";
import type { Example } from "../data/collate.js";
import { Trainer } from "./trainer.js";

const CONFIG = {
  model_type: "bert", vocab_size: 40, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 24,
  max_position_embeddings: 32, type_vocab_size: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
  id2label: { 0: "neg", 1: "pos", 2: "mixed" },
} as unknown as PretrainedConfig;

/** Learnable toy data: the label is which of three token ranges dominates the text. */
function data(n: number, seed: number): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const label = rng.int(3);
    const len = 3 + rng.int(8);
    const ids = [1, ...Array.from({ length: len }, () => (rng.uniform() < 0.8 ? 5 + label * 10 + rng.int(10) : 5 + rng.int(30))), 2];
    return { input_ids: ids, token_type_ids: ids.map(() => 0), label };
  });
}

function model(seed = 42): TaskModel {
  return createModel(structuredClone(CONFIG), "sequence-classification", seed);
}

function weights(m: TaskModel): Float32Array[] {
  return m.parameters().map((p) => Float32Array.from(p.data));
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-trainer-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function args(dir: string, extra: Partial<TrainingArgumentsInput> = {}) {
  return resolveArguments({
    output_dir: dir, learning_rate: 5e-3, per_device_train_batch_size: 8, num_train_epochs: 2, logging_steps: 2,
    eval_strategy: "epoch", save_strategy: "epoch", threads: 1, ...extra,
  });
}

const train = data(60, 1), evalSet = data(24, 2);
const quiet = () => {};

test("Trainer: the same seed and data give bit-identical weights, the fresh head included", async () => {
  await withDir(async (dir) => {
    const runs: Float32Array[][] = [];
    for (const sub of ["a", "b"]) {
      const m = model();
      await new Trainer({ model: m, args: args(join(dir, sub), { save_strategy: "no" }), train, eval: evalSet, labels: "class", padId: 0, log: quiet }).train();
      runs.push(weights(m));
    }
    runs[0].forEach((w, i) => assert.deepEqual(w, runs[1][i]));
    const other = model();
    await new Trainer({ model: other, args: args(join(dir, "c"), { save_strategy: "no", seed: 7 }), train, eval: evalSet, labels: "class", padId: 0, log: quiet }).train();
    assert.ok(weights(other).some((w, i) => w.some((v, j) => v !== runs[0][i][j])), "another seed gives other weights");
  });
});

test("Trainer: a run stopped mid-way and resumed ends bit-identical to an uninterrupted one", async () => {
  await withDir(async (dir) => {
    const extra = { save_strategy: "steps" as const, save_steps: 3, eval_strategy: "no" as const, gradient_accumulation_steps: 2, per_device_train_batch_size: 4 };
    const whole = model();
    await new Trainer({ model: whole, args: args(join(dir, "whole"), extra), train, labels: "class", padId: 0, log: quiet }).train();

    const part = model();
    const t1: Trainer = new Trainer({
      model: part, args: args(join(dir, "part"), extra), train, labels: "class", padId: 0,
      log: (l) => /^step 4\//.test(l) && t1.requestStop("test stop"),
    });
    const r1 = await t1.train();
    assert.equal(r1.interrupted, true);
    assert.ok(existsSync(join(dir, "part", "checkpoint-4")), "the stop saved a checkpoint");

    const resumed = model(999); // other start weights: everything must come from the checkpoint
    const r2 = await new Trainer({ model: resumed, args: args(join(dir, "part"), { ...extra, resume_from_checkpoint: true }), train, labels: "class", padId: 0, log: quiet }).train();
    assert.equal(r2.interrupted, false);
    const a = weights(whole), b = weights(resumed);
    a.forEach((w, i) => assert.deepEqual(b[i], w, `parameter ${i} differs after resuming`));
    const log = (name: string) => readFileSync(join(dir, name, "trainer_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(log("part").filter((e) => e.step > 4), log("whole").filter((e) => e.step > 4));
  });
});

test("Trainer: best model tracked, restored at the end, and never deleted by save_total_limit", async () => {
  await withDir(async (dir) => {
    const m = model();
    const a = args(dir, { num_train_epochs: 4, save_total_limit: 1, load_best_model_at_end: true, metric_for_best_model: "eval_accuracy" });
    assert.equal(a.metric_for_best_model, "accuracy");
    await new Trainer({ model: m, args: a, train, eval: evalSet, labels: "class", labelNames: ["neg", "pos", "mixed"], padId: 0, log: quiet }).train();
    const state = JSON.parse(readFileSync(join(dir, "trainer_state.json"), "utf8"));
    assert.ok(state.best_model_checkpoint);
    assert.ok(existsSync(state.best_model_checkpoint), "the best checkpoint survives rotation");
    const kept = readdirSync(dir).filter((n) => n.startsWith("checkpoint-"));
    assert.ok(kept.length <= 2, `kept ${kept.join(", ")}`);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.deepEqual(cfg.id2label, { 0: "neg", 1: "pos", 2: "mixed" });
    assert.ok(existsSync(join(dir, "model.safetensors")) && existsSync(join(dir, "run.json")));
  });
});

test("Trainer: a best-model metric the evaluation does not compute fails before training, naming the metrics", async () => {
  await withDir(async (dir) => {
    const t = new Trainer({ model: model(), args: args(dir, { metric_for_best_model: "f2" }), train, eval: evalSet, labels: "class", padId: 0, log: quiet });
    await assert.rejects(t.train(), /metric_for_best_model "f2" is not computed.*accuracy.*f1_macro/);
    assert.ok(!existsSync(join(dir, "trainer_log.jsonl")) || readFileSync(join(dir, "trainer_log.jsonl"), "utf8") === "");
  });
});

test("Trainer: early stopping ends the run when the metric stops improving", async () => {
  await withDir(async (dir) => {
    const t = new Trainer({
      model: model(), args: args(dir, { num_train_epochs: 30, learning_rate: 1e-9, early_stopping_patience: 2, eval_strategy: "epoch", save_strategy: "no", metric_for_best_model: "loss", early_stopping_threshold: 1e-3 }),
      train, eval: evalSet, labels: "class", padId: 0, log: quiet,
    });
    const r = await t.train();
    assert.equal(r.stoppedEarly, true);
    assert.ok(r.globalStep < 30 * 8, `stopped at step ${r.globalStep}`);
  });
});

test("Trainer: a finished run is not overwritten unless asked", async () => {
  await withDir(async (dir) => {
    const a = args(dir, { num_train_epochs: 1, save_strategy: "no", eval_strategy: "no" });
    await new Trainer({ model: model(), args: a, train, labels: "class", padId: 0, log: quiet }).train();
    await assert.rejects(new Trainer({ model: model(), args: a, train, labels: "class", padId: 0, log: quiet }).train(), /holds a finished run/);
    await new Trainer({ model: model(), args: { ...a, overwrite_output_dir: true }, train, labels: "class", padId: 0, log: quiet }).train();
  });
});

test("arguments: unknown names get a suggestion, incompatible schedules an explanation", () => {
  assert.throws(() => resolveArguments({ output_dir: "x", learning_rat: 1 }), /unknown argument "learning_rat" \(did you mean learning_rate\?\)/);
  assert.throws(() => resolveArguments({ output_dir: "x", learning_rate: -1 }), /learning_rate/);
  assert.throws(() => resolveArguments({ output_dir: "x", load_best_model_at_end: true, eval_strategy: "epoch", save_strategy: "steps" }), /save_strategy is "steps" but eval_strategy is "epoch"/);
  assert.throws(() => resolveArguments({ output_dir: "x", early_stopping_patience: 2, eval_strategy: "no" }), /early stopping needs evaluations/);
  const a = resolveArguments({ output_dir: "x" });
  assert.equal(a.learning_rate, 2e-5);
  assert.equal(a.per_device_train_batch_size, 32);
  assert.equal(a.max_length, 128);
  assert.equal(a.greater_is_better, false);
  assert.equal(resolveArguments({ output_dir: "x", metric_for_best_model: "eval_perplexity" }).greater_is_better, false);
  assert.equal(resolveArguments({ output_dir: "x", metric_for_best_model: "f1" }).greater_is_better, true);
  // transformers' boolean spelling of length grouping.
  assert.equal(resolveArguments({ output_dir: "x", group_by_length: true }).train_sampling, "group_by_length");
  assert.throws(() => resolveArguments({ output_dir: "x", group_by_length: true, train_sampling: "sequential" }), /train_sampling is "sequential": give one of them/);
});

test("Trainer: training order is sequential, a seeded permutation, or length-grouped", () => {
  const mk = (train_sampling: "random" | "sequential" | "group_by_length", data_seed = 3) =>
    new Trainer({ model: model(), args: args("unused", { train_sampling, data_seed }), train, labels: "class", padId: 0, log: quiet });
  assert.deepEqual(mk("sequential").epochOrder(0), train.map((_, i) => i));
  const r = mk("random");
  assert.deepEqual(r.epochOrder(1), mk("random").epochOrder(1), "same data_seed, same order");
  assert.notDeepEqual(r.epochOrder(1), r.epochOrder(2), "each epoch reshuffles");
  assert.notDeepEqual(r.epochOrder(1), mk("random", 4).epochOrder(1));
  assert.deepEqual([...r.epochOrder(1)].sort((a, b) => a - b), train.map((_, i) => i));
  const g = mk("group_by_length").epochOrder(0);
  assert.deepEqual([...g].sort((a, b) => a - b), train.map((_, i) => i));
  assert.equal(train[g[0]].input_ids.length, Math.max(...train.map((e) => e.input_ids.length)), "the longest example comes first");
});

test("Trainer: multi-label (BCE) and regression (MSE) runs train and report their metrics", async () => {
  await withDir(async (dir) => {
    const ml = train.map((e) => ({ ...e, label: [0, 1, 2].map((c) => (c === e.label || c === ((e.label as number) + 1) % 3 ? 1 : 0)) }));
    const mlModel = createModel({ ...structuredClone(CONFIG), problem_type: "multi_label_classification" } as PretrainedConfig, "sequence-classification", 1);
    const r1 = await new Trainer({ model: mlModel, args: args(join(dir, "ml"), { save_strategy: "no", metric_for_best_model: "f1_micro" }), train: ml, eval: ml.slice(0, 12), labels: "multi_label", padId: 0, log: quiet }).train();
    assert.ok("f1_micro" in r1.metrics && "f1_macro" in r1.metrics, Object.keys(r1.metrics).join(", "));
    const reg = train.map((e) => ({ ...e, label: (e.label as number) / 2 }));
    const regModel = createModel({ ...structuredClone(CONFIG), id2label: { 0: "score" }, problem_type: "regression" } as PretrainedConfig, "sequence-classification", 1);
    const r2 = await new Trainer({ model: regModel, args: args(join(dir, "reg"), { save_strategy: "no", metric_for_best_model: "mse" }), train: reg, eval: reg.slice(0, 12), labels: "regression", padId: 0, log: quiet }).train();
    assert.ok(Number.isFinite(r2.metrics.mse) && "pearson" in r2.metrics);
  });
});
