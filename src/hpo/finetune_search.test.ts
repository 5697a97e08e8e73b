// The fine-tuning search as `whet search --config run.yaml --space space.yaml` runs it: a small model
// from the project's fixtures, a few steps per trial.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { defaultDirection, runFinetuneSearch } from "./finetune_search.js";
import { createStudy } from "./study_api.js";

const traj = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));

test("each trial is a finetune run in OUTPUT/trial-N, evaluations are reported, the best run is kept in OUTPUT/best",
  async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-ftsearch-"));
  writeFileSync(join(dir, "space.yaml"), "learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}\n" +
    "per_device_train_batch_size: {type: categorical, choices: [8, 16]}\n");
  const base = {
    model: join(traj, "init"), train_file: join(traj, "train.csv"), output_dir: join(dir, "out"), max_steps: 4,
    max_length: 32, eval_strategy: "steps", eval_steps: 2, save_strategy: "no", validation_split: 0.25, threads: 1,
      logging_steps: 2,
  };
  const { study, summary } = await runFinetuneSearch({
    storage: `sqlite:///${join(dir, "s.db")}`, studyName: "ft", direction: "maximize", nTrials: 3, sampler: "tpe",
    pruner: "none",
    seed: 1, spaceFile: join(dir, "space.yaml"), catchErrors: false, base, metric: "eval_accuracy",
    log: () => undefined,
  });
  const trials = await study.trials();
  await study.storage.close();
  assert.equal(trials.length, 3);
  for (const t of trials) {
    assert.equal(t.state, "COMPLETE");
    assert.deepEqual([...t.intermediateValues.keys()], [2, 4], "accuracy reported at each evaluation's global step");
    assert.equal(t.values![0], t.intermediateValues.get(4));
    assert.equal(t.userAttrs.run_dir, join(dir, "out", `trial-${t.number}`));
    assert.ok(typeof (t.userAttrs.metrics as Record<string, number>).accuracy === "number");
  }
  assert.deepEqual(readdirSync(join(dir, "out")).sort(), ["best", "study.json"], "only the best run is kept");
  assert.ok(existsSync(join(dir, "out", "best", "model.safetensors")));
  const history = JSON.parse(readFileSync(join(dir, "out", "best", "study.json"), "utf8"));
  assert.equal(history.metric, "eval_accuracy");
  assert.equal(history.trials.length, 3);
  assert.match(summary, /best trial: \d/);
});

test("direction follows the metric when not given", () => {
  assert.equal(defaultDirection("eval_accuracy"), "maximize");
  assert.equal(defaultDirection("eval_loss"), "minimize");
  assert.equal(defaultDirection("rmse"), "minimize");
});

test("a trial the median pruner stops ends PRUNED with its intermediate values, and the search goes on", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-ftprune-"));
  writeFileSync(join(dir, "space.yaml"), "learning_rate: {type: float, low: 1.0e-5, high: 10, log: true}\n");
  const storage = `sqlite:///${join(dir, "s.db")}`;
  // five sane runs (the median pruner's 5 startup trials), one with a learning rate that wrecks
  // the model, one more sane one after it
  const lrs = [1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 5, 1e-3];
  const setup = await createStudy({ storage, studyName: "prune", direction: "minimize" });
  for (const lr of lrs) await setup.enqueueTrial({ learning_rate: lr });
  await setup.storage.close();
  const base = {
    model: join(traj, "init"), train_file: join(traj, "train.csv"), output_dir: join(dir, "out"), max_steps: 4,
    max_length: 32, eval_strategy: "steps", eval_steps: 2, save_strategy: "no", validation_split: 0.25, threads: 1,
  };
  const folders: boolean[] = [];
  const { study } = await runFinetuneSearch({
    storage, studyName: "prune", direction: "minimize", nTrials: lrs.length, sampler: "tpe", pruner: "median", seed: 1,
    spaceFile: join(dir, "space.yaml"), catchErrors: false, base, metric: "eval_loss", log: () => undefined,
    callbacks: [(_s, t) => void folders.push(existsSync(join(dir, "out", `trial-${t.number}`)))],
  });
  const trials = await study.trials();
  await study.storage.close();
  assert.deepEqual(trials.map((t) => t.params.learning_rate), lrs, "the enqueued parameters, in order");
  assert.deepEqual(trials.map((t) => t.state), ["COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "COMPLETE", "PRUNED",
    "COMPLETE"]);
  const pruned = trials[5];
  assert.deepEqual([...pruned.intermediateValues.keys()], [2], "stopped at its first evaluation");
  assert.deepEqual(pruned.values, [pruned.intermediateValues.get(2)],
    "as Optuna: a pruned trial's value is its last report");
  assert.ok(!(pruned.intermediateValues.get(2)! <= trials[0].intermediateValues.get(2)!), "worse than the median");
  assert.ok(folders.every(Boolean), "each trial ran in its own folder");
  assert.deepEqual(readdirSync(join(dir, "out")).sort(), ["best", "study.json"], "trial folders cleaned at the end");
  const history = JSON.parse(readFileSync(join(dir, "out", "study.json"), "utf8"));
  assert.equal(history.trials[5].state, "PRUNED");
});
