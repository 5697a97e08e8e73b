import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import type { PretrainedConfig } from "../io/config.js";
import { createModel } from "../models/auto.js";
import { resolveArguments, type TrainingArgumentsInput } from "./arguments.js";
import type { TrainerCallback, TrainerState } from "./callbacks.js";
import type { Example } from "../data/collate.js";
import { Trainer } from "./trainer.js";

const CONFIG = {
  model_type: "bert", vocab_size: 40, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12,
  max_position_embeddings: 32, type_vocab_size: 2, id2label: { 0: "a", 1: "b" },
} as unknown as PretrainedConfig;

function data(n: number, seed: number): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const label = rng.int(2);
    return { input_ids: [1, ...Array.from({ length: 4 }, () => 5 + label * 10 + rng.int(10)), 2], label };
  });
}

async function run(extra: Partial<TrainingArgumentsInput>, callbacks: TrainerCallback[], fn: (t: Trainer, dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "whet-callbacks-"));
  try {
    const args = resolveArguments({ output_dir: dir, per_device_train_batch_size: 4, num_train_epochs: 2, logging_steps: 2, threads: 1, eval_strategy: "no", save_strategy: "no", ...extra });
    const t = new Trainer({ model: createModel(structuredClone(CONFIG), "sequence-classification", 1), args, train: data(12, 1), eval: data(8, 2), labels: "class", padId: 0, log: () => {}, callbacks });
    await fn(t, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("callbacks: hooks come in transformers' order with the state as it stands", async () => {
  const seen: string[] = [];
  const states: TrainerState[] = [];
  const rec = (name: string) => (s: TrainerState) => {
    seen.push(`${name}@${s.globalStep}`);
    states.push(s);
  };
  const cb: TrainerCallback = {
    onTrainBegin: rec("train_begin"), onEpochBegin: rec("epoch_begin"), onStepBegin: rec("step_begin"), onStepEnd: rec("step_end"),
    onEpochEnd: rec("epoch_end"), onTrainEnd: rec("train_end"),
    onLog: (s, _c, logs) => void seen.push(`log@${s.globalStep}:${"eval_loss" in logs ? "eval" : "train"}`),
    onEvaluate: (s, _c, m) => void seen.push(`evaluate@${s.globalStep}:${typeof m.accuracy}`),
    onSave: async (s, _c, dir) => void seen.push(`save@${s.globalStep}:${existsSync(join(dir, "trainer_state.json"))}`),
  };
  await run({ eval_strategy: "epoch", save_strategy: "epoch" }, [cb], async (t) => {
    await t.train();
  });
  assert.deepEqual(seen, [
    "train_begin@0", "epoch_begin@0",
    "step_begin@0", "step_end@1",
    "step_begin@1", "step_end@2", "log@2:train",
    "step_begin@2", "step_end@3", "epoch_end@3", "log@3:eval", "evaluate@3:number", "save@3:true",
    "epoch_begin@3",
    "step_begin@3", "step_end@4", "log@4:train",
    "step_begin@4", "step_end@5",
    "step_begin@5", "step_end@6", "epoch_end@6", "log@6:train", "log@6:eval", "evaluate@6:number", "save@6:true",
    "train_end@6",
  ]);
  const last = states.at(-1)!;
  assert.equal(last.maxSteps, 6);
  assert.equal(last.numTrainEpochs, 2);
  assert.equal(last.epoch, 2);
  assert.equal(last.logHistory.length, 5);
  assert.ok(Number.isFinite(last.lastLoss));
});

test("callbacks: control forces a save and an evaluation, and stops the run (stoppedEarly)", async () => {
  const evaluatedAt: number[] = [];
  const steer: TrainerCallback = {
    onStepEnd(s, c) {
      if (s.globalStep === 2) {
        c.shouldSave = true;
        c.shouldEvaluate = true;
      }
      if (s.globalStep === 4) c.shouldTrainingStop = true;
    },
    onEvaluate: (s) => void evaluatedAt.push(s.globalStep),
  };
  await run({ eval_strategy: "steps", eval_steps: 100 }, [steer], async (t, dir) => {
    const r = await t.train();
    assert.equal(r.globalStep, 4);
    assert.equal(r.stoppedEarly, true);
    assert.equal(r.interrupted, false);
    assert.deepEqual(evaluatedAt, [2]);
    assert.ok(existsSync(join(dir, "checkpoint-2")), "shouldSave wrote a checkpoint");
    assert.ok(existsSync(join(dir, "model.safetensors")), "a stopped run still ends with the final save");
  });
});

test("callbacks: addCallback joins after the built-ins; an aborted signal stops with a checkpoint, interrupted", async () => {
  const controller = new AbortController();
  const logged: Record<string, number>[] = [];
  await run({}, [], async (t, dir) => {
    t.addCallback({ onLog: (_s, _c, logs) => void logged.push(logs) });
    t.addCallback({ onStepEnd: (s) => void (s.globalStep === 3 && controller.abort("SIGTERM")) });
    const t2 = new Trainer({
      model: createModel(structuredClone(CONFIG), "sequence-classification", 1),
      args: resolveArguments({ output_dir: join(dir, "b"), per_device_train_batch_size: 4, threads: 1, eval_strategy: "no", save_strategy: "no" }),
      train: data(12, 1), labels: "class", padId: 0, log: () => {}, signal: controller.signal,
    });
    await t.train();
    assert.deepEqual(logged.map((e) => e.step), [2, 4, 6]);
    const file = readFileSync(join(dir, "trainer_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(file, logged, "trainer_log.jsonl holds what onLog saw");
    const r = await t2.train();
    assert.equal(r.interrupted, true, "aborted before it started: stops after its first step");
    assert.equal(r.globalStep, 1);
    assert.ok(existsSync(join(dir, "b", "checkpoint-1")));
  });
});
