// The adapter flags as a user types them: the LoRA trajectory of Trainer on a PeftModel through
// `whet train --adapter`, new adapters from flags / PEFT's own config file, and the mistakes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readSafetensorsFile } from "../io/safetensors.js";

const fx = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const main = fileURLToPath(new URL("./main.js", import.meta.url));
const traj = join(fx, "trajectories", "bert-seq-lora");

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function inTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-peft-cli-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// The trajectory's settings (trajectory.json "settings"), as flags.
const SETTINGS = ["--train-file", join(traj, "train.csv"), "--validation-file", join(traj, "eval.csv"), "--learning-rate", "0.005",
  "--num-train-epochs", "3", "--warmup-steps", "4", "--per-device-train-batch-size", "8", "--per-device-eval-batch-size", "32",
  "--max-length", "32", "--train-sampling", "sequential", "--hidden-dropout-prob", "0", "--attention-dropout-prob", "0",
  "--threads", "1", "--logging-steps", "1", "--eval-strategy", "epoch", "--save-strategy", "no"];

test("cli: train --adapter reproduces Trainer on a PeftModel step for step and saves PEFT's adapter", async () => {
  const want = JSON.parse(readFileSync(join(traj, "trajectory.json"), "utf8"));
  await inTmp(async (dir) => {
    const t = whet(["train", "--model", join(traj, "init"), "--adapter", join(traj, "init_adapter"), ...SETTINGS, "--output-dir", "run"], dir);
    assert.equal(t.code, 0, t.err);
    assert.match(t.err, /LORA adapter: trainable params: 1156 \|\| all params/);
    const res = JSON.parse(t.out.trim().split("\n").at(-1)!);
    assert.equal(res.eval_accuracy, want.eval.accuracy);
    const log = readFileSync(join(dir, "run", "trainer_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => "loss" in e);
    assert.equal(log.length, want.steps.length);
    want.steps.forEach((s: { step: number; loss_exact: number }, i: number) => {
      assert.ok(Math.abs(log[i].loss - s.loss_exact) <= 1e-4 * s.loss_exact, `step ${s.step}: ${log[i].loss} vs ${s.loss_exact}`);
    });
    const saved = await readSafetensorsFile(join(dir, "run", "adapter_model.safetensors"));
    const init = await readSafetensorsFile(join(traj, "init_adapter", "adapter_model.safetensors"));
    assert.deepEqual([...saved.tensors.keys()].sort(), [...init.tensors.keys()].sort());
    assert.ok(!existsSync(join(dir, "run", "model.safetensors")));
    // The trained adapter serves evaluate and predict on the base model.
    const e = whet(["evaluate", "--model", join(traj, "init"), "--adapter", "run", "--file", join(traj, "eval.csv"), "--max-length", "32"], dir);
    assert.equal(e.code, 0, e.err);
    assert.equal(JSON.parse(e.out.trim()).eval_accuracy, want.eval.accuracy);
  });
});

test("cli: a new LoRA adapter from flags on string labels; merge writes a plain model that predicts the same", async () => {
  await inTmp(async (dir) => {
    const t = whet(["train", "--model", join(traj, "init"), "--peft", "lora", "--lora-r", "2", "--lora-alpha", "4", "--target-modules", "query,key,value,dense",
      ...SETTINGS.slice(0, 6), "--num-train-epochs", "1", "--max-length", "32", "--threads", "1", "--output-dir", "run"], dir);
    assert.equal(t.code, 0, t.err);
    const cfg = JSON.parse(readFileSync(join(dir, "run", "adapter_config.json"), "utf8"));
    assert.equal(cfg.peft_type, "LORA");
    assert.equal(cfg.r, 2);
    assert.equal(cfg.task_type, "SEQ_CLS");
    assert.deepEqual(cfg.modules_to_save, ["classifier", "score"]);
    const saved = await readSafetensorsFile(join(dir, "run", "adapter_model.safetensors"));
    assert.ok(saved.tensors.has("base_model.model.bert.encoder.layer.1.output.dense.lora_B.weight"));
    assert.ok(saved.tensors.has("base_model.model.classifier.weight"));
    const m = whet(["merge", "--model", join(traj, "init"), "--adapter", "run", "--output", "merged"], dir);
    assert.equal(m.code, 0, m.err);
    const merged = await readSafetensorsFile(join(dir, "merged", "model.safetensors"));
    const base = await readSafetensorsFile(join(traj, "init", "model.safetensors"));
    assert.deepEqual([...merged.tensors.keys()].sort(), [...base.tensors.keys()].sort());
    writeFileSync(join(dir, "in.jsonl"), '{"text": "you may copy and distribute"}\n{"text": "permission is granted"}\n');
    const viaAdapter = whet(["predict", "--model", join(traj, "init"), "--adapter", "run", "--input", "in.jsonl", "--output", "a.jsonl", "--logits"], dir);
    const viaMerged = whet(["predict", "--model", "merged", "--input", "in.jsonl", "--output", "b.jsonl", "--logits"], dir);
    assert.equal(viaAdapter.code, 0, viaAdapter.err);
    assert.equal(viaMerged.code, 0, viaMerged.err);
    const rows = (f: string) => readFileSync(join(dir, f), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const a = rows("a.jsonl"), b = rows("b.jsonl");
    assert.ok(["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"].includes(a[0].label), "string labels from the run");
    a.forEach((r, i) => {
      assert.equal(r.label, b[i].label);
      r.logits.forEach((v: number, j: number) => assert.ok(Math.abs(v - b[i].logits[j]) < 1e-5, `logit ${i},${j}`));
    });
  });
});

test("cli: adapter mistakes are clear errors and leave nothing behind", async () => {
  await inTmp(async (dir) => {
    const base = ["train", "--model", join(traj, "init"), ...SETTINGS.slice(0, 2), "--output-dir", "run"];
    // Typed as flags: usage errors (exit 2) naming the flag.
    const none = whet([...base, "--peft", "lora", "--target-modules", "querry"], dir);
    assert.equal(none.code, 2);
    assert.match(none.err, /--target-modules: target_modules \["querry"\] matched no module.*bert\.encoder\.layer\.\*\.attention\.self\.query/);
    const r0 = whet([...base, "--peft", "lora", "--lora-r", "0"], dir);
    assert.equal(r0.code, 2);
    assert.match(r0.err, /--lora-r: must be a positive integer, got 0/);
    const unknown = whet([...base, "--peft", "loha"], dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /--peft loha: peft_type "LOHA" is not supported by whet \(supported: LORA, IA3/);
    const noCount = whet([...base, "--peft", "prefix_tuning"], dir);
    assert.equal(noCount.code, 2);
    assert.match(noCount.err, /--peft prefix_tuning: "num_virtual_tokens" must be a positive integer, got null \(set it with --num-virtual-tokens\)/);
    const noMethod = whet([...base, "--lora-r", "4"], dir);
    assert.equal(noMethod.code, 2);
    assert.match(noMethod.err, /--lora-r: say which adapter to train with --peft/);
    // Read from a file: the file and the key are named.
    writeFileSync(join(dir, "dora.json"), JSON.stringify({ peft_type: "LORA", r: 4, use_dora: true }));
    const dora = whet([...base, "--peft-config", "dora.json"], dir);
    assert.equal(dora.code, 1);
    assert.match(dora.err, /--peft-config dora\.json: "use_dora": true is not implemented/);
    writeFileSync(join(dir, "vera.json"), JSON.stringify({ peft_type: "VERA", r: 4 }));
    const vera = whet([...base, "--peft-config", "vera.json"], dir);
    assert.equal(vera.code, 1);
    assert.match(vera.err, /--peft-config vera\.json: peft_type "VERA" is not supported/);
    writeFileSync(join(dir, "r0.json"), JSON.stringify({ peft_type: "LORA", r: 0, target_modules: ["nothing"] }));
    const r0file = whet([...base, "--peft-config", "r0.json"], dir);
    assert.equal(r0file.code, 1);
    assert.match(r0file.err, /--peft-config r0\.json: "r" must be a positive integer, got 0/);
    writeFileSync(join(dir, "run.yaml"), "peft:\n  peft_type: LORA\n  target_modules: [nothing]\n");
    const fromRun = whet([...base, "--config", "run.yaml"], dir);
    assert.equal(fromRun.code, 1);
    assert.match(fromRun.err, /--config run\.yaml \(peft:\): target_modules \["nothing"\] matched no module/);
    const other = whet(["evaluate", "--model", join(fx, "peft", "roberta-lora", "base"), "--adapter", join(traj, "init_adapter"), "--file", join(traj, "eval.csv")], dir);
    assert.equal(other.code, 1);
    assert.match(other.err, /cannot load|matched no module|has no/);
    assert.ok(!existsSync(join(dir, "run", "adapter_model.safetensors")));
  });
});

test("cli: prompt tuning from the run config's peft: mapping (TEXT init), then export with the virtual tokens", async () => {
  await inTmp(async (dir) => {
    writeFileSync(join(dir, "run.yaml"), [
      "peft:", "  peft_type: PROMPT_TUNING", "  num_virtual_tokens: 3", "  prompt_tuning_init: TEXT", "  prompt_tuning_init_text: the licence",
      "num_train_epochs: 1", "max_length: 32", "threads: 1", "output_dir: run", ""].join("\n"));
    const t = whet(["train", "--model", join(traj, "init"), "--config", "run.yaml", ...SETTINGS.slice(0, 4)], dir);
    assert.equal(t.code, 0, t.err);
    const cfg = JSON.parse(readFileSync(join(dir, "run", "adapter_config.json"), "utf8"));
    const peftWrote = JSON.parse(readFileSync(join(fx, "peft", "bert-prompt", "adapter", "adapter_config.json"), "utf8"));
    assert.deepEqual(Object.keys(cfg), Object.keys(peftWrote), "the keys PEFT writes for prompt tuning");
    assert.equal(cfg.num_virtual_tokens, 3);
    const saved = await readSafetensorsFile(join(dir, "run", "adapter_model.safetensors"));
    assert.deepEqual([...saved.tensors.keys()].sort(), ["base_model.classifier.bias", "base_model.classifier.weight", "prompt_embeddings"]);
    assert.deepEqual(saved.tensors.get("prompt_embeddings")!.shape, [3, 32]);
    const e = whet(["export", "--model", join(traj, "init"), "--adapter", "run", "--output", "onnx-out", "--threads", "1"], dir);
    assert.equal(e.code, 0, e.err);
    assert.ok(existsSync(join(dir, "onnx-out", "onnx", "model.onnx")));
  });
});

test("cli: bottleneck adapters (Houlsby) train, save under AdapterHub's module names and load back", async () => {
  await inTmp(async (dir) => {
    const t = whet(["train", "--model", join(traj, "init"), "--peft", "bottleneck", "--peft-config", "bn.json", ...SETTINGS.slice(0, 4),
      "--num-train-epochs", "1", "--max-length", "32", "--threads", "1", "--output-dir", "run"], (writeFileSync(join(dir, "bn.json"),
      JSON.stringify({ architecture: "double_seq_bn", reduction_factor: 8 })), dir));
    assert.equal(t.code, 0, t.err);
    const saved = await readSafetensorsFile(join(dir, "run", "adapter_model.safetensors"));
    const keys = [...saved.tensors.keys()];
    assert.ok(keys.includes("base_model.model.bert.encoder.layer.0.attention.output.adapters.adapter_down.0.weight"), keys.join(", "));
    assert.ok(keys.includes("base_model.model.bert.encoder.layer.1.output.adapters.adapter_up.bias"));
    assert.deepEqual(saved.tensors.get("base_model.model.bert.encoder.layer.0.output.adapters.adapter_down.0.weight")!.shape, [4, 32]);
    const res = JSON.parse(t.out.trim().split("\n").at(-1)!);
    const e = whet(["evaluate", "--model", join(traj, "init"), "--adapter", "run", "--file", join(traj, "eval.csv"), "--max-length", "32"], dir);
    assert.equal(e.code, 0, e.err);
    assert.ok(Math.abs(JSON.parse(e.out.trim()).eval_loss - res.eval_loss) < 1e-5, "the saved adapter gives the run's evaluation");
    const m = whet(["merge", "--model", join(traj, "init"), "--adapter", "run", "--output", "merged"], dir);
    assert.equal(m.code, 1);
    assert.match(m.err, /only LoRA and IA3 merge/);
    assert.ok(!existsSync(join(dir, "merged")));
  });
});
