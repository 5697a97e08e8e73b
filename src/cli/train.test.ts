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

test("train: a header-less TSV with bare quotes, by --no-header --text-column 0 --label-column 1", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-tsv-"));
  try {
    const csv = readFileSync(join(traj, "train.csv"), "utf8").trim().split("\n").slice(1);
    // "text,label" rows → 'text " with a bare quote<TAB>label', no header.
    const tsv = csv.map((l) => { const i = l.lastIndexOf(","); return `"${l.slice(0, i).replace(/"/g, "")} 5" screen\t${l.slice(i + 1)}`; });
    writeFileSync(join(dir, "train.tsv"), tsv.join("\n") + "\n");
    const args = ["train", "--model", join(traj, "init"), "--train-file", "train.tsv", "--output-dir", "run", "--max-steps", "1", ...SETTINGS];
    const missing = whet(args, dir);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /--no-header --text-column 0 --label-column 1/);
    const r = whet([...args, "--no-header", "--text-column", "0", "--label-column", "1"], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`Rows: ${tsv.length}\\b`), "every line is a row: no quote swallowed the next ones");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("train: 0.0/1.0 labels: inferred regression is announced naming --problem-type; the flag makes them classes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-ptype-"));
  try {
    const map: Record<string, string> = { "GPL-3": "1.0", "Apache-2.0": "0.0", "MPL-2.0": "1.0", "GFDL-1.3": "0.0" };
    const rows = readFileSync(join(traj, "train.csv"), "utf8").trim().split(/\r?\n/).slice(1)
      .map((l) => { const i = l.lastIndexOf(","); return `${l.slice(0, i)},${map[l.slice(i + 1).trim()]}`; });
    writeFileSync(join(dir, "train.csv"), `text,label\n${rows.join("\n")}\n`);
    const args = ["train", "--model", join(traj, "init"), "--train-file", "train.csv", "--max-steps", "1", ...SETTINGS];
    const reg = whet([...args, "--output-dir", "reg"], dir);
    assert.equal(reg.code, 0, reg.err);
    assert.match(reg.err, /regression, inferred from numeric labels.*--problem-type single_label_classification/);
    assert.equal(JSON.parse(readFileSync(join(dir, "reg", "config.json"), "utf8")).problem_type, "regression");
    const cls = whet([...args, "--output-dir", "cls", "--problem-type", "single_label_classification", "--label-names", "1.0,0.0"], dir);
    assert.equal(cls.code, 0, cls.err);
    assert.doesNotMatch(cls.err, /regression/);
    const cfg = JSON.parse(readFileSync(join(dir, "cls", "config.json"), "utf8"));
    assert.equal(cfg.problem_type, "single_label_classification");
    assert.deepEqual(cfg.id2label, { 0: "1.0", 1: "0.0" }, "--label-names fixes the order");
    const bad = whet([...args, "--output-dir", "bad", "--label-names", "1.0,2.0"], dir);
    assert.match(bad.err, /--label-names 1\.0,2\.0 does not name the data's labels "0\.0"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("train: usage errors exit 2 and list every missing option; Python-style flags are accepted", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-usage-"));
  try {
    const none = whet(["train"], dir);
    assert.equal(none.code, 2);
    assert.match(none.err, /missing required options --model, --train-file, --output-dir/);
    const bad = whet(["train", "--model", "m", "--train-file", "t.csv", "--output-dir", "o", "--problem-type", "x"], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--problem-type: /);
    const py = whet(["train", "--train_file", "t.csv", "--output_dir", "o", "--evaluation_strategy", "no"], dir);
    assert.equal(py.code, 2);
    assert.match(py.err, /--evaluation-strategy is called --eval-strategy now/);
    assert.match(py.err, /missing required option --model \(/, "--train_file and --output_dir were read");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("train: a header-only file and a missing config file get one clear line each", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-msgs-"));
  try {
    writeFileSync(join(dir, "h.csv"), "text,label\n");
    const ho = whet(["train", "--model", join(traj, "init"), "--train-file", "h.csv", "--output-dir", "o"], dir);
    assert.equal(ho.code, 1);
    assert.match(ho.err, /Cannot train on "h\.csv": it holds a header row and no data rows/);
    const cfg = whet(["train", "--config", "nope.yaml"], dir);
    assert.match(cfg.err, /--config nope\.yaml: no such file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
