// `whet distill --adapter`: the teacher is the base model plus an adapter (LoRA merged first), and
// the student may train an adapter of its own (--peft), as a user types it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const fx = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const main = fileURLToPath(new URL("./main.js", import.meta.url));
const traj = join(fx, "trajectories", "bert-seq-lora");
const DATA = ["--train-file", join(traj, "train.csv"), "--max-length", "32", "--threads", "1", "--seed", "7"];

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const last = (out: string) => JSON.parse(out.trim().split("\n").at(-1)!);

test("cli: distill --adapter scores the teacher as base + adapter; --peft trains the student's adapter only", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-distill-adapter-"));
  try {
    // A LoRA teacher that differs from its base: one epoch at a high learning rate.
    const t = whet(["train", "--model", join(traj, "init"), "--peft", "lora", "--lora-r", "4", "--lora-alpha", "8",
      "--target-modules", "query,value,intermediate.dense", "--learning-rate", "0.02", "--num-train-epochs", "2",
      "--per-device-train-batch-size", "16", ...DATA, "--output-dir", "teacher"], dir);
    assert.equal(t.code, 0, t.err);
    const ev = whet(["evaluate", "--model", join(traj, "init"), "--adapter", "teacher", "--file", join(traj, "eval.csv"),
      "--max-length", "32"], dir);
    assert.equal(ev.code, 0, ev.err);
    const base = whet(["evaluate", "--model", join(traj, "init"), "--file", join(traj, "eval.csv"), "--max-length", "32"], dir);
    const withAdapter = last(ev.out).eval_accuracy, without = last(base.out).eval_accuracy;
    assert.notEqual(withAdapter, without, "the trained adapter should change the teacher's accuracy");

    const d = whet(["distill", "--teacher", join(traj, "init"), "--adapter", "teacher", "--student-layers", "1",
      "--validation-file", join(traj, "eval.csv"), "--num-train-epochs", "1", ...DATA, "--output-dir", "student"], dir);
    assert.equal(d.code, 0, d.err);
    assert.match(d.err, /LORA adapter .* \(merged\)/);
    assert.equal(last(d.out).teacher.accuracy, withAdapter);
    assert.ok(existsSync(join(dir, "student", "model.safetensors")));

    // The student trains a LoRA adapter on a saved base: only adapter files are written.
    const p = whet(["distill", "--teacher", join(traj, "init"), "--adapter", "teacher", "--student", join(traj, "init"),
      "--peft", "lora", "--lora-r", "2", "--num-train-epochs", "1", ...DATA, "--output-dir", "peft-student"], dir);
    assert.equal(p.code, 0, p.err);
    assert.match(p.err, /LORA adapter: trainable params: \d+ \|\| all params/);
    const cfg = JSON.parse(readFileSync(join(dir, "peft-student", "adapter_config.json"), "utf8"));
    assert.equal(cfg.r, 2);
    assert.equal(cfg.base_model_name_or_path, join(traj, "init"));
    assert.ok(!existsSync(join(dir, "peft-student", "model.safetensors")));

    // Mistakes: a student made of teacher layers has no saved base for an adapter; a folder that is no adapter.
    const bad = whet(["distill", "--teacher", join(traj, "init"), "--student-layers", "1", "--peft", "lora", ...DATA,
      "--output-dir", "x"], dir);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /--peft needs --student/);
    const noAdapter = whet(["distill", "--teacher", join(traj, "init"), "--adapter", join(traj, "init"), "--student-layers", "1",
      ...DATA, "--output-dir", "y"], dir);
    assert.notEqual(noAdapter.code, 0);
    assert.match(noAdapter.err, /adapter_config\.json/);
    assert.ok(!existsSync(join(dir, "x")) && !existsSync(join(dir, "y")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
