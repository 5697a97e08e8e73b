// The command line end to end, as a user runs it, on the project's own tiny fixtures.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const fx = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const traj = join(fx, "trajectories", "bert-seq");

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function inTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-cli-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const TRAIN = ["--model", join(traj, "init"), "--train-file", join(traj, "train.csv"), "--validation-file", join(traj, "eval.csv"),
  "--learning-rate", "2e-3", "--per-device-train-batch-size", "16", "--max-length", "32", "--threads", "1"];

test("cli: train, then evaluate, predict, forward and tokenize the trained model", async () => {
  await inTmp(async (dir) => {
    const t = whet(["train", ...TRAIN, "--num-train-epochs", "1", "--output-dir", "run", "--logging-steps", "4"], dir);
    assert.equal(t.code, 0, t.err);
    const res = JSON.parse(t.out.trim().split("\n").at(-1)!);
    assert.equal(res.global_step, 16);
    assert.ok(res.eval_accuracy >= 0 && res.eval_accuracy <= 1);
    const log = readFileSync(join(dir, "run", "trainer_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(log[0]), ["step", "epoch", "loss", "grad_norm", "learning_rate"]);
    assert.ok(log.some((e) => "eval_loss" in e && "eval_accuracy" in e));
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "run.json", "data_report.json", "checkpoint-16"]) {
      assert.ok(existsSync(join(dir, "run", f)), `${f} is written`);
    }
    const run = JSON.parse(readFileSync(join(dir, "run", "run.json"), "utf8"));
    assert.match(run.data.train_sha256, /^[0-9a-f]{64}$/);

    const ev = whet(["evaluate", "--model", "run", "--file", join(traj, "eval.csv"), "--max-length", "32"], dir);
    assert.equal(ev.code, 0, ev.err);
    const m = JSON.parse(ev.out);
    assert.equal(m.rows, 64);
    assert.ok(Math.abs(m.eval_accuracy - res.eval_accuracy) < 1e-12, "evaluate repeats the final evaluation");

    writeFileSync(join(dir, "in.jsonl"), '{"text": "GNU GENERAL PUBLIC LICENSE"}\n{"text": "Mozilla Public License Version 2.0"}\n');
    const p = whet(["predict", "--model", "run", "--input", "in.jsonl", "--output", "pred.jsonl", "--logits"], dir);
    assert.equal(p.code, 0, p.err);
    const preds = readFileSync(join(dir, "pred.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(preds.length, 2);
    for (const r of preds) {
      assert.ok(["Apache-2.0", "GFDL-1.3", "GPL-3", "MPL-2.0"].includes(r.label));
      assert.equal(r.logits.length, 4);
    }
    const out = whet(["predict", "--model", "run", "--input", "in.jsonl", "--output", "-"], dir);
    assert.equal(out.code, 0, out.err);
    assert.deepEqual(out.out.trim().split("\n").map((l) => JSON.parse(l).label), preds.map((r) => r.label), "--output - is stdout");
    const f = whet(["forward", "--model", "run", "--input", "in.jsonl", "--output", "fwd.json"], dir);
    assert.equal(f.code, 0, f.err);
    const fwd = JSON.parse(readFileSync(join(dir, "fwd.json"), "utf8"));
    assert.equal(fwd.logits.length, 2);
    assert.equal(fwd.last_hidden_state[0][0].length, 32);
    writeFileSync(join(dir, "t.txt"), "hello world\n");
    const tk = whet(["tokenize", "--model", "run", "--input", "t.txt"], dir);
    assert.equal(tk.code, 0, tk.err);
    assert.deepEqual(JSON.parse(tk.out).tokens.at(0), "[CLS]");
  });
});

test("cli: SIGTERM saves a checkpoint and exits; --resume-from-checkpoint continues to the same result", async () => {
  await inTmp(async (dir) => {
    const args = ["train", ...TRAIN, "--num-train-epochs", "3", "--eval-strategy", "no", "--save-strategy", "no", "--logging-steps", "1", "--train-sampling", "random"];
    const full = whet([...args, "--output-dir", "full"], dir);
    assert.equal(full.code, 0, full.err);
    const child = spawn(process.execPath, [main, ...args, "--output-dir", "cut"], { cwd: dir });
    let err = "";
    const code: number | null = await new Promise((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        err += d;
        if (/step 5\//.test(err) && !child.killed) child.kill("SIGTERM");
      });
      child.on("exit", (c) => resolve(c));
    });
    assert.equal(code, 130, err);
    const ckpt = readFileSync(join(dir, "cut", "trainer_log.jsonl"), "utf8").trim().split("\n").length;
    assert.ok(existsSync(join(dir, "cut", `checkpoint-${ckpt}`)), `checkpoint-${ckpt} after SIGTERM:\n${err}`);
    const resumed = whet([...args, "--output-dir", "cut", "--resume-from-checkpoint"], dir);
    assert.equal(resumed.code, 0, resumed.err);
    assert.deepEqual(readFileSync(join(dir, "cut", "model.safetensors")), readFileSync(join(dir, "full", "model.safetensors")));
  });
});

test("cli: mistakes get clear messages and a non-zero exit", async () => {
  await inTmp(async (dir) => {
    const r = whet(["train", ...TRAIN, "--output-dir", "x", "--learning-rate", "fast"], dir);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /--learning-rate: expected a number, got "fast"/);
    writeFileSync(join(dir, "run.yaml"), "learning_rat: 0.1\n");
    const c = whet(["train", ...TRAIN, "--output-dir", "x", "--config", "run.yaml"], dir);
    assert.notEqual(c.code, 0);
    assert.match(c.err, /unknown argument "learning_rat" \(did you mean learning_rate\?\)/);
    writeFileSync(join(dir, "bad.csv"), "words,label\nhi,a\n");
    const m = whet(["train", ...TRAIN.slice(0, 2), "--train-file", "bad.csv", "--output-dir", "x"], dir);
    assert.notEqual(m.code, 0);
    assert.match(m.err, /text/);
    assert.match(m.err, /words/);
  });
});

test("cli: token classification from CoNLL — train, then evaluate with entity-level metrics", async () => {
  await inTmp(async (dir) => {
    const sent = "EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\ncall\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n\nBRUSSELS\tB-LOC\n1996-08-22\tO\n\n";
    writeFileSync(join(dir, "train.conll"), sent.repeat(4));
    writeFileSync(join(dir, "dev.conll"), sent);
    const t = whet(["train", "--task", "token-classification", "--model", join(fx, "hf", "bert-tok"), "--train-file", "train.conll", "--validation-file", "dev.conll",
      "--output-dir", "ner", "--learning-rate", "5e-3", "--num-train-epochs", "1", "--per-device-train-batch-size", "4", "--threads", "1"], dir);
    assert.equal(t.code, 0, t.err);
    const cfg = JSON.parse(readFileSync(join(dir, "ner", "config.json"), "utf8"));
    assert.deepEqual(cfg.architectures, ["BertForTokenClassification"]);
    assert.deepEqual(Object.values(cfg.id2label), ["B-LOC", "B-MISC", "B-ORG", "B-PER", "I-PER", "O"]);
    const ev = whet(["evaluate", "--model", "ner", "--file", "dev.conll"], dir);
    assert.equal(ev.code, 0, ev.err);
    const m = JSON.parse(ev.out);
    for (const k of ["eval_precision", "eval_recall", "eval_f1", "eval_accuracy", "eval_PER_f1"]) assert.ok(k in m, `${k} reported`);
  });
});

test("cli: distill a 1-layer student from a 2-layer teacher; both scored side by side", async () => {
  await inTmp(async (dir) => {
    const t = whet(["train", ...TRAIN, "--num-train-epochs", "1", "--output-dir", "teacher", "--eval-strategy", "no", "--save-strategy", "no"], dir);
    assert.equal(t.code, 0, t.err);
    const d = whet(["distill", "--teacher", "teacher", "--student-layers", "1", "--train-file", join(traj, "train.csv"), "--validation-file", join(traj, "eval.csv"),
      "--output-dir", "student", "--alpha", "0.7", "--temperature", "2", "--num-train-epochs", "1", "--learning-rate", "2e-3", "--max-length", "32", "--threads", "1", "--save-strategy", "no"], dir);
    assert.equal(d.code, 0, d.err);
    const r = JSON.parse(d.out.trim().split("\n").at(-1)!);
    assert.ok(r.teacher.accuracy >= 0 && r.student.accuracy >= 0);
    assert.ok(r.student.params < r.teacher.params, "the student is smaller");
    const cfg = JSON.parse(readFileSync(join(dir, "student", "config.json"), "utf8"));
    assert.equal(cfg.num_hidden_layers, 1);
    assert.match(d.err, /teacher's logits for 256 examples/);
  });
});
