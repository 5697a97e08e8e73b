// Fine-tuning strategies against whole runs of transformers.Trainer 4.30 (fixtures/trajectories,
// copied from ../shared/fixtures): frozen embeddings, layer-wise lr decay and gradual unfreezing
// made with explicit AdamW groups and a requires_grad callback. Same start, data and settings must
// give the same loss at every step, the same evaluation and the same final parameters.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readConfig } from "../io/config.js";
import { readSafetensorsFile, toFloat32 } from "../io/safetensors.js";
import { createModel, type TaskModel } from "../models/auto.js";
import { loadPretrainedWeights } from "../models/pretrained.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { resolveArguments, type TrainingArgumentsInput } from "./arguments.js";
import type { Example } from "../data/collate.js";
import { Evaluator } from "./evaluator.js";
import { Trainer } from "./trainer.js";

const root = fileURLToPath(new URL("../../fixtures/trajectories/", import.meta.url));
const LABELS = ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"];
type Sums = Record<string, { sum: number; abs_sum: number }>;

interface Trajectory {
  steps: { step: number; loss_exact: number; lr: number; lrs_used: number[]; grad_norm: number }[];
  eval: { loss: number; accuracy: number };
  param_groups: { lr_initial: number; weight_decay: number; params: string[] }[];
  final_param_sums: Sums;
  adam_state_steps: Record<string, number>;
  epoch_end_sums?: Sums[];
}

/** The fixtures' CSVs: a header, then `"text",label` rows (texts quoted, labels bare). */
function readCsv(path: string): { text: string; label: string }[] {
  return readFileSync(path, "utf8").trim().split(/\r?\n/).slice(1).map((line) => {
    const m = /^"((?:[^"]|"")*)",(.*)$/.exec(line) ?? /^([^,]*),(.*)$/.exec(line);
    assert.ok(m, `unexpected CSV line ${line}`);
    return { text: m[1].replace(/""/g, '"'), label: m[2] };
  });
}

async function setup(name: string) {
  const dir = join(root, name);
  const traj: Trajectory = JSON.parse(readFileSync(join(dir, "trajectory.json"), "utf8"));
  const tok = await loadTokenizer(join(dir, "init"));
  const encode = async (rows: { text: string; label: string }[]): Promise<Example[]> => Promise.all(rows.map(async (r) => {
    const e = await tok.encode(r.text, null, { maxLength: 32, truncation: true });
    return { input_ids: e.ids, token_type_ids: e.typeIds, label: LABELS.indexOf(r.label) };
  }));
  const train = await encode(readCsv(join(dir, "train.csv")));
  const evalSet = await encode(readCsv(join(dir, "eval.csv")));
  const newModel = async () => {
    const config = readConfig(join(dir, "init"));
    Object.assign(config, { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
    const model = createModel(config, "sequence-classification");
    await loadPretrainedWeights(model, join(dir, "init"));
    return model;
  };
  return { dir, traj, tok, train, evalSet, newModel };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** The fixtures' settings (batch 8, lr 2e-3, 3 epochs, 4 warm-up steps, sequential order) plus `extra`. */
async function run(s: Setup, model: TaskModel, out: string, extra: Partial<TrainingArgumentsInput>) {
  const args = resolveArguments({
    output_dir: out, per_device_train_batch_size: 8, per_device_eval_batch_size: 32, learning_rate: 2e-3, num_train_epochs: 3,
    warmup_steps: 4, weight_decay: 0.01, max_grad_norm: 1.0, lr_scheduler_type: "linear", train_sampling: "sequential",
    logging_steps: 1, eval_strategy: "no", save_strategy: "no", threads: 1, ...extra,
  });
  const trainer = new Trainer({ model, args, train: s.train, eval: s.evalSet, labels: "class", labelNames: LABELS, padId: s.tok.padTokenId!, log: () => {} });
  await trainer.train();
  return (await readFile(join(out, "trainer_log.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
}

function sums(data: Float32Array): { sum: number; abs: number } {
  let sum = 0, abs = 0;
  for (const v of data) {
    sum += v;
    abs += Math.abs(v);
  }
  return { sum, abs };
}

/** Parameter sums against the fixture's; the key bias is skipped (see trajectory.test.ts: its gradient is rounding noise). */
function assertSums(params: [string, { data: Float32Array }][], want: Sums, what: string, tol = 1e-4): void {
  for (const [k, p] of params) {
    if (k.endsWith("attention.self.key.bias")) continue;
    const { sum, abs } = sums(p.data), w = want[k];
    assert.ok(Math.abs(abs - w.abs_sum) <= tol * w.abs_sum, `${what} ${k}: Σ|p| ${abs} vs ${w.abs_sum}`);
    assert.ok(Math.abs(sum - w.sum) <= tol * Math.max(Math.abs(w.sum), 1e-2 * w.abs_sum), `${what} ${k}: Σp ${sum} vs ${w.sum}`);
  }
}

/** Every step's loss (1e-4 relative) and grad norm, the evaluation, and the final parameters. */
async function assertTrajectory(s: Setup, model: TaskModel, log: Record<string, number>[]): Promise<void> {
  assert.equal(log.length, s.traj.steps.length);
  s.traj.steps.forEach((want, i) => {
    assert.equal(log[i].step, want.step);
    assert.ok(Math.abs(log[i].loss - want.loss_exact) <= 1e-4 * want.loss_exact, `step ${want.step}: loss ${log[i].loss} vs ${want.loss_exact}`);
    assert.ok(Math.abs(log[i].grad_norm - want.grad_norm) <= 1e-3 * want.grad_norm, `step ${want.step}: grad norm ${log[i].grad_norm} vs ${want.grad_norm}`);
    assert.ok(Math.abs(log[i].learning_rate - want.lr) <= 1e-12 + 1e-9 * want.lr, `step ${want.step}: lr ${log[i].learning_rate} vs ${want.lr}`);
  });
  const ev = await Evaluator.create({ model, examples: s.evalSet, labels: "class", padId: s.tok.padTokenId!, batchSize: 32, threads: 1 });
  const metrics = await ev.evaluate();
  await ev.release();
  assert.equal(metrics.accuracy, s.traj.eval.accuracy);
  assert.ok(Math.abs(metrics.loss - s.traj.eval.loss) <= 1e-4 * s.traj.eval.loss, `eval loss ${metrics.loss} vs ${s.traj.eval.loss}`);
  assertSums(model.namedParameters(), s.traj.final_param_sums, "final");
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "whet-ft-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("freeze embeddings: reproduces bert-seq-frozen-emb; frozen tensors end bit-equal to the start", async () => {
  const s = await setup("bert-seq-frozen-emb");
  const model = await s.newModel();
  const before = new Map(model.namedParameters().map(([k, p]) => [k, Float32Array.from(p.data)]));
  await withDir(async (out) => {
    const log = await run(s, model, out, { freeze: ["embeddings"] });
    await assertTrajectory(s, model, log);
    for (const [k, p] of model.namedParameters()) {
      if (k.startsWith("bert.embeddings.")) assert.deepEqual(p.data, before.get(k), `${k} moved`);
    }
    const record = JSON.parse(await readFile(join(out, "run.json"), "utf8")).fine_tuning;
    assert.deepEqual(record.frozen, model.namedParameters().map(([k]) => k).filter((k) => k.startsWith("bert.embeddings.")));
    assert.deepEqual(record.groups.map((g: { tensors: number }) => g.tensors), s.traj.param_groups.map((g) => g.params.length));
  });
});

test("layer-wise lr decay 0.8: reproduces bert-seq-llrd; the groups are the fixture's", async () => {
  const s = await setup("bert-seq-llrd");
  const model = await s.newModel();
  await withDir(async (out) => {
    const log = await run(s, model, out, { layerwise_lr_decay: 0.8 });
    await assertTrajectory(s, model, log);
    const groups = JSON.parse(await readFile(join(out, "run.json"), "utf8")).fine_tuning.groups;
    assert.deepEqual(groups.map((g: { name: string }) => g.name), [
      "head", "head (no decay)", "layer 1", "layer 1 (no decay)", "layer 0", "layer 0 (no decay)", "embeddings", "embeddings (no decay)",
    ]);
    groups.forEach((g: { lr: number; weight_decay: number; tensors: number }, i: number) => {
      const want = s.traj.param_groups[i];
      assert.ok(Math.abs(g.lr - want.lr_initial) <= 1e-15, `group ${i}: lr ${g.lr} vs ${want.lr_initial}`);
      assert.equal(g.weight_decay, want.weight_decay);
      assert.equal(g.tensors, want.params.length);
    });
  });
});

test("gradual unfreezing: reproduces bert-seq-unfreeze (per-parameter bias correction, clipping over trainable only)", async () => {
  const s = await setup("bert-seq-unfreeze");
  const model = await s.newModel();
  await withDir(async (out) => {
    const log = await run(s, model, out, { gradual_unfreezing: true, save_strategy: "epoch" });
    await assertTrajectory(s, model, log);
    for (const [e, step] of [[0, 32], [1, 64], [2, 96]]) {
      const ckpt = join(out, `checkpoint-${step}`);
      const { tensors } = await readSafetensorsFile(join(ckpt, "model.safetensors"));
      const params = [...tensors].filter(([k]) => k in s.traj.final_param_sums).map(([k, t]) => [k, { data: Float32Array.from(toFloat32(t)) }] as [string, { data: Float32Array }]);
      assertSums(params, s.traj.epoch_end_sums![e], `epoch ${e + 1}`);
    }
    const { metadata } = await readSafetensorsFile(join(out, "checkpoint-96", "optimizer.safetensors"));
    assert.deepEqual(JSON.parse(metadata.param_steps), s.traj.adam_state_steps);
  });
});

test("gradual unfreezing: a run resumed at or after an unfreezing boundary ends bit-identical to an uninterrupted one", async () => {
  const s = await setup("bert-seq-unfreeze");
  await withDir(async (root) => {
    const whole = await s.newModel();
    await run(s, whole, join(root, "whole"), { gradual_unfreezing: true, save_strategy: "steps", save_steps: 16 });
    // 32: the end of epoch 1, the next step unfreezes layer 1; 48: mid epoch 2, head and layer 1 at different AdamW steps.
    for (const at of [32, 48]) {
      const resumed = await s.newModel();
      const out = join(root, `from-${at}`);
      const log = await run(s, resumed, out, { gradual_unfreezing: true, resume_from_checkpoint: join(root, "whole", `checkpoint-${at}`) });
      assert.equal(log[0].step, at + 1);
      for (const [[k, p], [, q]] of whole.namedParameters().map((e, i) => [e, resumed.namedParameters()[i]] as const)) {
        assert.ok(p.data.every((v, i) => Object.is(v, q.data[i])), `resumed from ${at}: ${k} differs`);
      }
    }
  });
});
