// The finetune recipe as a library user, a search or an augmenter calls it.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { TextRow } from "../data/read.js";
import { resolveArguments } from "../train/arguments.js";
import type { TrainerCallback } from "../train/callbacks.js";
import { finetune } from "./finetune.js";
import { pretrain } from "./pretraining.js";
import { resolveRunSpec } from "./run_spec.js";

const traj = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));

test("finetune: a spec in, the run's files, metrics and data report out; extra callbacks and the beforeEncode hook take part", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-recipe-"));
  try {
    const spec = resolveRunSpec({
      model: join(traj, "init"), train_file: join(traj, "train.csv"), output_dir: join(dir, "run"), max_steps: 6,
      per_device_train_batch_size: 8, learning_rate: 2e-3, max_length: 32, eval_strategy: "steps", eval_steps: 3, save_strategy: "no",
      validation_split: 0.25, threads: 1, logging_steps: 3,
    });
    const evaluated: number[] = [];
    const pruner: TrainerCallback = {
      onEvaluate(state, control) {
        evaluated.push(state.globalStep);
        if (state.globalStep >= 3) control.shouldTrainingStop = true; // as a search's pruner would
      },
    };
    const seen: number[] = [];
    const lines: string[] = [];
    const r = await finetune(spec, {
      callbacks: [pruner],
      log: (l) => lines.push(l),
      beforeEncode: (train) => {
        seen.push(train.rows.length);
        // An augmenter adds rows to the training split only.
        const extra = (train.rows as TextRow[]).slice(0, 8).map((row) => ({ ...row, text: row.text.toUpperCase() }));
        return { task: "sequence-classification", rows: [...(train.rows as TextRow[]), ...extra] };
      },
    });
    assert.deepEqual(seen, [192], "the hook sees the 256 − 64 training rows, after the split");
    assert.deepEqual(evaluated, [3]);
    assert.equal(r.stoppedEarly, true);
    assert.equal(r.globalStep, 3);
    assert.equal(r.outputDir, join(dir, "run"));
    assert.deepEqual(r.labelNames, ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"], "the model's own label order");
    assert.ok(r.metrics.accuracy >= 0 && r.metrics.accuracy <= 1);
    assert.equal((r.dataReport as { rows: number }).rows, 200, "the report counts the rows trained on");
    assert.match(r.dataReportText, /200/);
    assert.ok(lines.some((l) => /held out 64 of 256 rows/.test(l)), "notes go to the log option");
    for (const f of ["model.safetensors", "config.json", "run.json", "trainer_log.jsonl", "data_report.json"]) assert.ok(existsSync(join(r.outputDir, f)), f);
    assert.equal(JSON.parse(readFileSync(join(r.outputDir, "run.json"), "utf8")).task, "sequence-classification");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("resolveRunSpec: missing keys and bad values are named as the flags a user types", () => {
  assert.throws(() => resolveRunSpec({ train_file: "x.csv" }), /train: missing required options --model, --output-dir/);
  assert.throws(() => resolveRunSpec({ model: "m", train_file: "x.csv", task: "ner" }, "run.yaml"), /run\.yaml: --task: /);
  assert.throws(() => resolveRunSpec({ model: "m", train_file: "x.csv", learning_rat: 1 }), /--output-dir .*unknown argument "learning_rat" \(did you mean learning_rate\?\)/);
  const spec = resolveRunSpec({ model: "m", train_file: "x.csv", output_dir: "o" });
  assert.equal(spec.text_column, "text");
  assert.equal(spec.args.learning_rate, 2e-5);
});

test("recipes guard their output folder themselves: finetune and pretrain called as a library refuse an input or a user's folder", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-recipe-"));
  try {
    const model = join(traj, "init");
    const spec = (output_dir: string) => resolveRunSpec({
      model, train_file: join(traj, "train.csv"), output_dir, max_steps: 1, per_device_train_batch_size: 8, max_length: 16,
      eval_strategy: "no", save_strategy: "no", threads: 1,
    });
    const quiet = { log: () => {} };
    await assert.rejects(finetune(spec(model), quiet), /--output-dir .* is an input of this run/);
    await assert.rejects(finetune(spec(join(model, "run")), quiet), /lies inside the input folder/);
    assert.ok(!existsSync(join(model, "run")), "no folder left inside the model");
    const mine = join(dir, "mine");
    await mkdir(mine);
    await writeFile(join(mine, "notes.txt"), "my notes");
    await assert.rejects(finetune(spec(mine), quiet), /not empty and is not an earlier whet output/);
    assert.equal(readFileSync(join(mine, "notes.txt"), "utf8"), "my notes");
    assert.deepEqual(readdirSync(mine), ["notes.txt"], "nothing written into the refused folder");
    const documents = ["a b c", "d e f"];
    await assert.rejects(
      pretrain({ model, documents, args: resolveArguments({ output_dir: mine, max_length: 16 }), log: () => {} }),
      /not empty and is not an earlier whet output/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
