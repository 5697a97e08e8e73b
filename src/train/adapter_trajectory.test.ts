// transformers.Trainer on a PeftModel (fixtures/trajectories/bert-seq-lora, the real Trainer 4.30
// with PEFT 0.20): same base, same initial adapter, same data must give the same loss at every
// step, the same evaluation and the same trained adapter; checkpoints hold the adapter alone and
// resume bit for bit.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readConfig } from "../io/config.js";
import { readSafetensorsFile } from "../io/safetensors.js";
import { createModel } from "../models/auto.js";
import { loadPretrainedWeights } from "../models/pretrained.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { adapterModelFiles, loadAdapter } from "./adapter_model.js";
import { resolveArguments, type TrainingArguments } from "./arguments.js";
import type { Example } from "../data/examples.js";
import { Evaluator } from "./evaluator.js";
import { Trainer } from "./trainer.js";

const dir = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq-lora/", import.meta.url));
const LABELS = ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"];
const traj = JSON.parse(readFileSync(join(dir, "trajectory.json"), "utf8")) as {
  about: { settings: Record<string, number> };
  steps: { step: number; loss_exact: number; lr: number }[];
  eval: { loss: number; accuracy: number };
  final_param_sums: Record<string, { sum: number; abs_sum: number }>;
};

function readCsv(path: string): { text: string; label: string }[] {
  return readFileSync(path, "utf8").trim().split(/\r?\n/).slice(1).map((line) => {
    const m = /^"((?:[^"]|"")*)",(.*)$/.exec(line) ?? /^([^,]*),(.*)$/.exec(line);
    assert.ok(m, `unexpected CSV line ${line}`);
    return { text: m[1].replace(/""/g, '"'), label: m[2] };
  });
}

async function setup(out: string, extra: Partial<Record<keyof TrainingArguments, unknown>> = {}) {
  const tok = await loadTokenizer(join(dir, "init"));
  const encode = async (rows: { text: string; label: string }[]): Promise<Example[]> =>
    Promise.all(rows.map(async (r) => {
      const e = await tok.encode(r.text, null, { maxLength: 32, truncation: true });
      return { input_ids: e.ids, token_type_ids: e.typeIds, label: LABELS.indexOf(r.label) };
    }));
  const config = readConfig(join(dir, "init"));
  Object.assign(config, { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const model = createModel(config, "sequence-classification");
  await loadPretrainedWeights(model, join(dir, "init"));
  const adapter = await loadAdapter(model, join(dir, "init_adapter"));
  const s = traj.about.settings;
  const args = resolveArguments({
    output_dir: out, per_device_train_batch_size: s.per_device_train_batch_size, per_device_eval_batch_size: 32,
    learning_rate: s.learning_rate, num_train_epochs: s.num_train_epochs, warmup_steps: s.warmup_steps, weight_decay: 0.01,
    max_grad_norm: 1.0, lr_scheduler_type: "linear", train_sampling: "sequential", logging_steps: 1, eval_strategy: "no",
    save_strategy: "no", threads: 1, ...extra,
  });
  const train = await encode(readCsv(join(dir, "train.csv")));
  const evalSet = await encode(readCsv(join(dir, "eval.csv")));
  const trainer = new Trainer({
    model, args, train, eval: evalSet, labels: "class", labelNames: LABELS, padId: tok.padTokenId!, log: () => {},
    modelFiles: adapterModelFiles(model, adapter, "init", { labels: LABELS }),
  });
  return { model, adapter, trainer, evalSet, padId: tok.padTokenId! };
}

/** PEFT's in-memory name -> the adapter file key (the adapter name and modules_to_save dropped). */
const fileKey = (peftName: string) => peftName.replace(".modules_to_save.default.", ".").replace(".default.", ".");

test("bert-seq-lora: every step's loss, the evaluation and the trained adapter match Trainer on a PeftModel", async () => {
  const out = await mkdtemp(join(tmpdir(), "whet-lora-traj-"));
  try {
    const { model, adapter, trainer, evalSet, padId } = await setup(out);
    await trainer.train();
    const log = (await readFile(join(out, "trainer_log.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(log.length, traj.steps.length);
    traj.steps.forEach((want, i) => assert.ok(Math.abs(log[i].loss - want.loss_exact) <= 1e-4 * want.loss_exact, `step ${want.step}: loss ${log[i].loss} vs ${want.loss_exact}`));
    const ev = await Evaluator.create({ model, examples: evalSet, labels: "class", padId, batchSize: 32, threads: 1 });
    const metrics = await ev.evaluate();
    await ev.release();
    assert.equal(metrics.accuracy, traj.eval.accuracy);
    assert.ok(Math.abs(metrics.loss - traj.eval.loss) <= 1e-4 * traj.eval.loss, `eval loss ${metrics.loss} vs ${traj.eval.loss}`);
    for (const [name, want] of Object.entries(traj.final_param_sums)) {
      const p = adapter.tensors.get(fileKey(name));
      assert.ok(p, `no adapter tensor for ${name}`);
      let sum = 0, abs = 0;
      for (const v of p.data) {
        sum += v;
        abs += Math.abs(v);
      }
      assert.ok(Math.abs(abs - want.abs_sum) <= 1e-3 * want.abs_sum, `${name}: Σ|p| ${abs} vs ${want.abs_sum}`);
      assert.ok(Math.abs(sum - want.sum) <= 1e-3 * Math.max(Math.abs(want.sum), 1e-2 * want.abs_sum), `${name}: Σp ${sum} vs ${want.sum}`);
    }
    // The frozen base did not move: it still equals init/.
    const base = createModel(readConfig(join(dir, "init")), "sequence-classification");
    await loadPretrainedWeights(base, join(dir, "init"));
    const now = new Map(model.namedParameters());
    for (const [k, p] of base.namedParameters()) if (!k.startsWith("classifier.")) assert.deepEqual(now.get(k)!.data, p.data, k);
    // The run's folder holds the adapter as PEFT names it, not a model.
    const saved = await readSafetensorsFile(join(out, "adapter_model.safetensors"));
    assert.deepEqual([...saved.tensors.keys()].sort(), Object.keys(traj.final_param_sums).map(fileKey).sort());
    assert.deepEqual(saved.metadata, { format: "pt" });
    assert.ok(!readdirSync(out).includes("model.safetensors"));
    const cfg = JSON.parse(readFileSync(join(out, "adapter_config.json"), "utf8"));
    assert.deepEqual(Object.keys(cfg), Object.keys(JSON.parse(readFileSync(join(dir, "init_adapter", "adapter_config.json"), "utf8"))));
    assert.equal(cfg.base_model_name_or_path, "init");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("bert-seq-lora: checkpoints hold the adapter and its AdamW moments only, and resume bit for bit", async () => {
  const out = await mkdtemp(join(tmpdir(), "whet-lora-ckpt-"));
  const out2 = await mkdtemp(join(tmpdir(), "whet-lora-ckpt2-"));
  try {
    const full = await setup(out, { save_strategy: "steps", save_steps: 40, num_train_epochs: 2 });
    await full.trainer.train();
    const ck = join(out, "checkpoint-40");
    const files = readdirSync(ck).sort();
    assert.ok(files.includes("adapter_model.safetensors") && !files.includes("model.safetensors"), files.join(", "));
    const moments = await readSafetensorsFile(join(ck, "optimizer.safetensors"));
    assert.equal(moments.tensors.size, 2 * full.adapter.tensors.size, "moments for the trainable tensors only");
    const resumed = await setup(out2, { save_strategy: "steps", save_steps: 40, num_train_epochs: 2, resume_from_checkpoint: ck });
    await resumed.trainer.train();
    const a = await readFile(join(out, "adapter_model.safetensors")), b = await readFile(join(out2, "adapter_model.safetensors"));
    assert.ok(a.equals(b), "the resumed run's adapter equals the uninterrupted run's, byte for byte");
  } finally {
    await rm(out, { recursive: true, force: true });
    await rm(out2, { recursive: true, force: true });
  }
});

test("bert-seq-lora: gradient accumulation with an adapter equals the larger batch; best model and early stopping reload the adapter", async () => {
  const a = await mkdtemp(join(tmpdir(), "whet-lora-acc-a-")), b = await mkdtemp(join(tmpdir(), "whet-lora-acc-b-"));
  try {
    const big = await setup(a, { num_train_epochs: 1 });
    await big.trainer.train();
    const acc = await setup(b, { num_train_epochs: 1, per_device_train_batch_size: 4, gradient_accumulation_steps: 2 });
    await acc.trainer.train();
    const logOf = async (d: string) => (await readFile(join(d, "trainer_log.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l).loss as number);
    const [la, lb] = [await logOf(a), await logOf(b)];
    assert.equal(la.length, lb.length);
    la.forEach((v, i) => assert.ok(Math.abs(v - lb[i]) <= 1e-5 * v, `step ${i + 1}: ${v} vs ${lb[i]}`));
  } finally {
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
  const out = await mkdtemp(join(tmpdir(), "whet-lora-best-"));
  try {
    const run = await setup(out, {
      num_train_epochs: 4, eval_strategy: "epoch", save_strategy: "epoch", load_best_model_at_end: true, metric_for_best_model: "loss",
      greater_is_better: false, early_stopping_patience: 1, learning_rate: 0.05,
    });
    const res = await run.trainer.train();
    const state = JSON.parse(readFileSync(join(out, "trainer_state.json"), "utf8"));
    assert.ok(state.best_model_checkpoint, "a best checkpoint was kept");
    const best = await readFile(join(state.best_model_checkpoint, "adapter_model.safetensors"));
    assert.ok(best.equals(await readFile(join(out, "adapter_model.safetensors"))), "the final adapter is the best checkpoint's");
    assert.ok(res.globalStep > 0);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
