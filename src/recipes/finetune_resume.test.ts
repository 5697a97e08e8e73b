// Resuming and re-running as a user does: the step total and train_loss of a resumed run, a finished
// run refused before anything is loaded, the learning rate chosen by model size.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { finetune } from "./finetune.js";
import { applyLearningRateRule, learningRateForSize } from "./learning_rate_rule.js";
import { resolveRunSpec } from "./run_spec.js";

const traj = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));
const base = (out: string, extra: Record<string, unknown> = {}) => resolveRunSpec({
  model: join(traj, "init"), train_file: join(traj, "train.csv"), output_dir: out, max_steps: 4,
  per_device_train_batch_size: 8, max_length: 32, eval_strategy: "no", save_strategy: "steps", save_steps: 2,
  threads: 1, logging_steps: 1, ...extra,
});

test("resume: the step total of this run, train_loss over the whole run; a finished run refused before loading", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-resume-"));
  try {
    const lines: string[] = [];
    const whole = await finetune(base(join(dir, "whole")), { log: (l) => lines.push(l) });
    assert.equal(whole.globalStep, 4);
    // The fixture model has hidden size 32: no --learning-rate given, so the small-model rate, said once.
    assert.ok(lines.some((l) => /^learning_rate 0\.001: a small model \(hidden size 32\)/.test(l)), lines.join("\n"));
    const state = JSON.parse(readFileSync(join(dir, "whole", "trainer_state.json"), "utf8"));
    assert.equal(JSON.parse(readFileSync(join(dir, "whole", "run.json"), "utf8")).args.learning_rate, 1e-3);
    const steps = state.log_history.filter((h: Record<string, number>) => h.loss !== undefined).map((h: Record<string, number>) => h.loss);
    assert.equal(steps.length, 4);
    assert.ok(Math.abs(whole.trainLoss - steps.reduce((a: number, b: number) => a + b, 0) / 4) < 1e-6);

    // A checkpoint copied into a fresh folder, resumed: steps 3 and 4 again, the same weights and losses.
    await cp(join(dir, "whole", "checkpoint-2"), join(dir, "resumed", "checkpoint-2"), { recursive: true });
    const resumedLines: string[] = [];
    const resumed = await finetune(base(join(dir, "resumed"), { resume_from_checkpoint: true }), { log: (l) => resumedLines.push(l) });
    assert.equal(resumed.globalStep, 4);
    assert.ok(resumedLines.some((l) => /resumed from .*checkpoint-2 at step 2 of 4/.test(l)), resumedLines.join("\n"));
    assert.ok(resumedLines.some((l) => /^step 3\/4 /.test(l)), resumedLines.join("\n"));
    assert.ok(Math.abs(resumed.trainLoss - whole.trainLoss) < 1e-6,
      `train_loss over all 4 steps: resumed ${resumed.trainLoss}, uninterrupted ${whole.trainLoss}`);

    // Run again into the finished folder: refused at once, before the (broken) model is even looked at.
    const again = base(join(dir, "whole"));
    again.model = join(dir, "no-such-model");
    await assert.rejects(finetune(again, { log: () => {} }), /--output-dir .*whole holds a finished run: pass --overwrite-output-dir/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("learning rate by model size: the rule, the default it picks, the advice for a rate set too small", () => {
  assert.equal(learningRateForSize(128), 1e-3);
  assert.equal(learningRateForSize(256), 1e-4);
  assert.equal(learningRateForSize(768), undefined);
  const spec = (o: Record<string, unknown>) => resolveRunSpec({ model: "m", train_file: "t.csv", output_dir: "o", ...o });
  const unset = spec({});
  assert.match(applyLearningRateRule(unset, 128)!, /^learning_rate 0\.001: a small model \(hidden size 128\)/);
  assert.equal(unset.args.learning_rate, 1e-3);
  const big = spec({});
  assert.equal(applyLearningRateRule(big, 768), undefined);
  assert.equal(big.args.learning_rate, 2e-5, "a base-size model keeps BERT's default");
  const small = spec({ learning_rate: 5e-5 });
  assert.match(applyLearningRateRule(small, 128)!, /^advice: --learning-rate 5e-5 is likely too small .* around 0\.001/);
  assert.equal(small.args.learning_rate, 5e-5, "a rate the user set is kept");
  assert.equal(applyLearningRateRule(spec({ learning_rate: 1e-3 }), 128), undefined);
  const lora = spec({ peft: "lora" });
  assert.equal(applyLearningRateRule(lora, 128), undefined, "adapters keep their own rate");
});
