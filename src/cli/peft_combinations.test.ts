// Adapter settings beyond the fixtures, run as a user would from a fresh folder: DistilBERT and
// RoBERTa, feed-forward targets, a second modules_to_save, prompt/prefix tuning, string labels and
// the model's own label names. Each adapter must load back (evaluate --adapter gives the run's own
// evaluation) and LoRA must merge into a plain model that evaluates the same.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readSafetensorsFile } from "../io/safetensors.js";

const hf = fileURLToPath(new URL("../../fixtures/hf/", import.meta.url));
const main = fileURLToPath(new URL("./main.js", import.meta.url));

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const last = (out: string) => JSON.parse(out.trim().split("\n").at(-1)!);

const TEXTS = ["great film", "terrible plot", "it is a film", "loved it", "boring and slow", "people talk",
  "a joy to watch", "a waste of time", "ninety minutes long", "brilliant acting", "awful acting", "some scenes"];

/** A train/dev pair whose labels are `names` (cycled), written as CSV. */
function data(dir: string, names: string[]): string[] {
  const rows = (n: number, off: number) => Array.from({ length: n }, (_, i) => `${TEXTS[(i + off) % TEXTS.length]} ${i},${names[i % names.length]}`);
  writeFileSync(join(dir, "train.csv"), ["text,label", ...rows(24, 0)].join("\n") + "\n");
  writeFileSync(join(dir, "dev.csv"), ["text,label", ...rows(9, 5)].join("\n") + "\n");
  return ["--train-file", "train.csv", "--validation-file", "dev.csv", "--num-train-epochs", "1", "--max-length", "16",
    "--threads", "1", "--learning-rate", "0.02", "--per-device-train-batch-size", "8"];
}

async function inTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-peft-combos-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The run's own evaluation equals `evaluate` of the saved adapter (and of `extra` models, e.g. merged). */
function assertLoadsBack(dir: string, run: { out: string }, model: string, adapter: string | null): void {
  const args = ["evaluate", "--model", model, ...(adapter ? ["--adapter", adapter] : []), "--file", "dev.csv", "--max-length", "16"];
  const e = whet(args, dir);
  assert.equal(e.code, 0, e.err);
  const want = last(run.out), got = last(e.out);
  assert.equal(got.eval_accuracy, want.eval_accuracy);
  assert.ok(Math.abs(got.eval_loss - want.eval_loss) <= 1e-5 * Math.abs(want.eval_loss), `${got.eval_loss} vs ${want.eval_loss}`);
}

const keys = async (file: string) => [...(await readSafetensorsFile(file)).tensors.keys()];

test("cli: DistilBERT LoRA on lin1/lin2/q_lin/v_lin with modules_to_save pre_classifier, string labels; merge", async () => {
  await inTmp(async (dir) => {
    const t = whet(["train", "--model", join(hf, "distilbert-seq"), "--peft", "lora", "--lora-r", "3", "--lora-alpha", "12",
      "--target-modules", "lin1,lin2,q_lin,v_lin", "--modules-to-save", "pre_classifier", ...data(dir, ["pos", "neg", "neutral"]),
      "--output-dir", "run"], dir);
    assert.equal(t.code, 0, t.err);
    const cfg = JSON.parse(readFileSync(join(dir, "run", "adapter_config.json"), "utf8"));
    assert.deepEqual(cfg.modules_to_save, ["pre_classifier", "classifier", "score"]);
    assert.deepEqual(cfg.target_modules, ["lin1", "lin2", "q_lin", "v_lin"]);
    const k = await keys(join(dir, "run", "adapter_model.safetensors"));
    for (const want of ["base_model.model.pre_classifier.weight", "base_model.model.classifier.bias",
      "base_model.model.distilbert.transformer.layer.1.ffn.lin2.lora_A.weight", "base_model.model.distilbert.transformer.layer.0.attention.q_lin.lora_B.weight"]) {
      assert.ok(k.includes(want), `${want} in ${k.join(", ")}`);
    }
    assert.ok(!k.some((x) => x.includes("k_lin") || x.includes("out_lin")));
    assertLoadsBack(dir, t, join(hf, "distilbert-seq"), "run");
    const m = whet(["merge", "--model", join(hf, "distilbert-seq"), "--adapter", "run", "--output", "merged"], dir);
    assert.equal(m.code, 0, m.err);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "merged", "config.json"), "utf8")).label2id, { neg: 0, neutral: 1, pos: 2 });
    assertLoadsBack(dir, t, "merged", null);
  });
});

test("cli: BERT LoRA on the feed-forward modules with two modules_to_save (pooler, LayerNorm) and the model's own labels", async () => {
  await inTmp(async (dir) => {
    const t = whet(["train", "--model", join(hf, "bert-seq"), "--peft", "lora", "--lora-r", "2", "--lora-alpha", "3",
      "--target-modules", "intermediate.dense,output.dense", "--modules-to-save", "pooler,LayerNorm",
      ...data(dir, ["LABEL_0", "LABEL_1", "LABEL_2"]), "--output-dir", "run"], dir);
    assert.equal(t.code, 0, t.err);
    assert.doesNotMatch(t.err, /newly initialised/, "the model's own labels keep its head");
    const cfg = JSON.parse(readFileSync(join(dir, "run", "adapter_config.json"), "utf8"));
    assert.deepEqual(cfg.modules_to_save, ["pooler", "LayerNorm", "classifier", "score"]);
    const k = await keys(join(dir, "run", "adapter_model.safetensors"));
    // PEFT's names: the saved copies under their plain names (no modules_to_save.default).
    for (const want of ["base_model.model.bert.pooler.dense.weight", "base_model.model.bert.embeddings.LayerNorm.weight",
      "base_model.model.bert.encoder.layer.1.attention.output.LayerNorm.bias", "base_model.model.bert.encoder.layer.0.output.LayerNorm.weight",
      "base_model.model.bert.encoder.layer.0.attention.output.dense.lora_A.weight", "base_model.model.bert.encoder.layer.1.intermediate.dense.lora_B.weight"]) {
      assert.ok(k.includes(want), `${want} missing`);
    }
    assert.ok(!k.some((x) => x.includes("modules_to_save") || x.includes(".default.")));
    assertLoadsBack(dir, t, join(hf, "bert-seq"), "run");
  });
});

test("cli: RoBERTa prefix tuning and DistilBERT prompt tuning write PEFT's prompt-learning config and load back", async () => {
  await inTmp(async (dir) => {
    const flags = data(dir, ["yes", "no"]);
    const r = whet(["train", "--model", join(hf, "roberta-seq"), "--peft", "prefix_tuning", "--num-virtual-tokens", "3", ...flags,
      "--output-dir", "prefix"], dir);
    assert.equal(r.code, 0, r.err);
    const pc = JSON.parse(readFileSync(join(dir, "prefix", "adapter_config.json"), "utf8"));
    assert.deepEqual([pc.num_layers, pc.token_dim, pc.num_attention_heads, pc.encoder_hidden_size], [2, 32, 2, 32]);
    assert.deepEqual((await readSafetensorsFile(join(dir, "prefix", "adapter_model.safetensors"))).tensors.get("prompt_embeddings")!.shape, [3, 2 * 2 * 32]);
    assertLoadsBack(dir, r, join(hf, "roberta-seq"), "prefix");

    const d = whet(["train", "--model", join(hf, "distilbert-seq"), "--peft", "prompt_tuning", "--num-virtual-tokens", "4", ...flags,
      "--output-dir", "prompt"], dir);
    assert.equal(d.code, 0, d.err);
    const dc = JSON.parse(readFileSync(join(dir, "prompt", "adapter_config.json"), "utf8"));
    assert.deepEqual([dc.num_layers, dc.token_dim, dc.num_attention_heads], [2, 32, 2]);
    assertLoadsBack(dir, d, join(hf, "distilbert-seq"), "prompt");
    // Prefix tuning on DistilBERT is refused as PEFT refuses it: a usage error naming --peft.
    const bad = whet(["train", "--model", join(hf, "distilbert-seq"), "--peft", "prefix_tuning", "--num-virtual-tokens", "2", ...flags,
      "--output-dir", "bad"], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--peft prefix_tuning: DistilBERT's attention takes no past keys and values/);
    assert.ok(!existsSync(join(dir, "bad")));
  });
});
