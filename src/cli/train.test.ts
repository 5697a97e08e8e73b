// `whet train` on a model that already carries labels: the model's ids are kept (run_glue), or,
// when they do not fit the data, the user is told and the head is drawn afresh.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const traj = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// transformers.Trainer's own settings for this trajectory (fixtures/trajectories/README.md).
const SETTINGS = ["--per-device-train-batch-size", "8", "--learning-rate", "2e-3", "--warmup-steps", "4", "--max-length", "32",
  "--train-sampling", "sequential", "--eval-strategy", "no", "--save-strategy", "no", "--logging-steps", "1", "--threads", "1"];

test("train: string labels on a model whose label2id is not alphabetical keep the model's ids, step for step as transformers", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-labels-"));
  try {
    // The fixture's model carries GPL-3, Apache-2.0, MPL-2.0, GFDL-1.3 (ids 0..3); sorted they would be renumbered.
    const r = whet(["train", "--model", join(traj, "init"), "--train-file", join(traj, "train.csv"), "--output-dir", "run",
      "--num-train-epochs", "4", ...SETTINGS], dir);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /newly initialised/, "the model's head is kept");
    const cfg = JSON.parse(readFileSync(join(dir, "run", "config.json"), "utf8"));
    assert.deepEqual(Object.values(cfg.id2label), ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"]);
    const want: { step: number; loss: number }[] = JSON.parse(readFileSync(join(traj, "trajectory.json"), "utf8")).steps;
    const log = readFileSync(join(dir, "run", "trainer_log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(log.length, want.length);
    // From step 1 on: a scrambled head would start from another loss.
    want.forEach((w, i) => assert.ok(Math.abs(log[i].loss - w.loss) <= Math.max(1e-3 * w.loss, 5.1e-5), `step ${w.step}: ${log[i].loss} vs ${w.loss}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("train: labels the model's do not cover are named, both sets, and the head is drawn afresh", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-labels-"));
  try {
    const model = join(dir, "model");
    cpSync(join(traj, "init"), model, { recursive: true });
    // Same count, other names: the checkpoint's head fits by shape but means other classes.
    const rows = readFileSync(join(traj, "train.csv"), "utf8").replace(/,GPL-3$/gm, ",copyleft").replace(/,GFDL-1\.3$/gm, ",docs");
    writeFileSync(join(dir, "train.csv"), rows);
    const r = whet(["train", "--model", model, "--train-file", "train.csv", "--output-dir", "run", "--max-steps", "2", ...SETTINGS], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /the model's labels \("GPL-3", "Apache-2\.0", "MPL-2\.0", "GFDL-1\.3"\) do not cover the data's labels \("Apache-2\.0", "MPL-2\.0", "copyleft", "docs"\)/);
    assert.match(r.err, /newly initialised \(not in the checkpoint\): classifier\.weight, classifier\.bias/);
    const cfg = JSON.parse(readFileSync(join(dir, "run", "config.json"), "utf8"));
    assert.deepEqual(Object.values(cfg.id2label), ["Apache-2.0", "MPL-2.0", "copyleft", "docs"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("train: a model whet cannot build is named before anything else is read", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-labels-"));
  try {
    writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "gpt2" }));
    const r = whet(["train", "--model", dir, "--train-file", join(traj, "train.csv"), "--output-dir", join(dir, "run")], dir);
    assert.equal(r.code, 1);
    assert.match(r.err, /model_type "gpt2" is not supported \(supported: bert, roberta, xlm-roberta, distilbert\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
