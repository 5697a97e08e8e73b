// Whole training runs of transformers.Trainer 4.30 (fixtures/trajectories, copied from
// ../shared/fixtures): same start, data and settings must give the same loss at every step.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readConfig } from "../io/config.js";
import { createModel } from "../models/auto.js";
import { loadPretrainedWeights } from "../models/pretrained.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { resolveArguments } from "./arguments.js";
import type { Example } from "../data/collate.js";
import { Trainer } from "./trainer.js";

const root = fileURLToPath(new URL("../../fixtures/trajectories/", import.meta.url));
const LABELS = ["GPL-3", "Apache-2.0", "MPL-2.0", "GFDL-1.3"];

/** The fixtures' CSVs: a header, then `"text",label` rows (texts quoted, labels bare). */
function readCsv(path: string): { text: string; label: string }[] {
  return readFileSync(path, "utf8").trim().split(/\r?\n/).slice(1).map((line) => {
    const m = /^"((?:[^"]|"")*)",(.*)$/.exec(line) ?? /^([^,]*),(.*)$/.exec(line);
    assert.ok(m, `unexpected CSV line ${line}`);
    return { text: m[1].replace(/""/g, '"'), label: m[2] };
  });
}

interface Trajectory {
  about: { settings: Record<string, unknown> };
  steps: { step: number; loss: number; lr: number }[];
  eval: { loss: number; accuracy: number };
  final_param_sums: Record<string, { sum: number; abs_sum: number }>;
}

for (const name of ["bert-seq", "bert-seq-accum"]) {
  test(`${name}: every step's loss, the final evaluation and parameters match transformers.Trainer`, async () => {
    const dir = join(root, name);
    const traj: Trajectory = JSON.parse(readFileSync(join(dir, "trajectory.json"), "utf8"));
    const s = traj.about.settings;
    const tok = await loadTokenizer(join(dir, "init"));
    const encode = async (rows: { text: string; label: string }[]): Promise<Example[]> =>
      Promise.all(rows.map(async (r) => {
        const e = await tok.encode(r.text, null, { maxLength: 32, truncation: true });
        return { input_ids: e.ids, token_type_ids: e.typeIds, label: LABELS.indexOf(r.label) };
      }));
    const train = await encode(readCsv(join(dir, "train.csv")));
    const evalSet = await encode(readCsv(join(dir, "eval.csv")));
    const config = readConfig(join(dir, "init"));
    Object.assign(config, { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
    const model = createModel(config, "sequence-classification");
    await loadPretrainedWeights(model, join(dir, "init"));
    const out = await mkdtemp(join(tmpdir(), "whet-traj-"));
    try {
      const args = resolveArguments({
        output_dir: out,
        per_device_train_batch_size: s.per_device_train_batch_size as number,
        per_device_eval_batch_size: 32,
        gradient_accumulation_steps: s.gradient_accumulation_steps as number,
        learning_rate: s.learning_rate as number,
        num_train_epochs: s.num_train_epochs as number,
        warmup_steps: s.warmup_steps as number,
        weight_decay: 0.01,
        max_grad_norm: 1.0,
        lr_scheduler_type: "linear",
        train_sampling: "sequential",
        logging_steps: 1,
        eval_strategy: "no",
        save_strategy: "no",
        threads: 1,
      });
      const trainer = new Trainer({ model, args, train, eval: evalSet, labels: "class", labelNames: LABELS, padId: tok.padTokenId!, log: () => {} });
      await trainer.train();
      const log = (await readFile(join(out, "trainer_log.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(log.length, traj.steps.length);
      traj.steps.forEach((want, i) => {
        assert.equal(log[i].step, want.step);
        // transformers logs the loss rounded to 4 decimals
        assert.ok(Math.abs(log[i].loss - want.loss) <= Math.max(1e-3 * want.loss, 5.1e-5), `step ${want.step}: loss ${log[i].loss} vs ${want.loss}`);
        assert.ok(Math.abs(log[i].learning_rate - want.lr) <= 1e-12 + 1e-9 * want.lr, `step ${want.step}: lr ${log[i].learning_rate} vs ${want.lr}`);
      });
      const { Evaluator } = await import("./evaluator.js");
      const ev = await Evaluator.create({ model, examples: evalSet, labels: "class", padId: tok.padTokenId!, batchSize: 32, threads: 1 });
      const metrics = await ev.evaluate();
      await ev.release();
      assert.equal(metrics.accuracy, traj.eval.accuracy);
      assert.ok(Math.abs(metrics.loss - traj.eval.loss) <= 1e-3 * traj.eval.loss, `eval loss ${metrics.loss} vs ${traj.eval.loss}`);
      for (const [k, p] of model.namedParameters()) {
        // The key bias cannot change the loss (softmax ignores a per-row constant), so its gradient
        // is float32 rounding noise that AdamW normalises into ±lr steps: a random walk in torch
        // and in whet alike, comparable in neither.
        if (k.endsWith("attention.self.key.bias")) continue;
        const want = traj.final_param_sums[k];
        let sum = 0, abs = 0;
        for (const v of p.data) {
          sum += v;
          abs += Math.abs(v);
        }
        assert.ok(Math.abs(abs - want.abs_sum) <= 1e-3 * want.abs_sum, `${k}: Σ|p| ${abs} vs ${want.abs_sum}`);
        assert.ok(Math.abs(sum - want.sum) <= 1e-3 * Math.max(Math.abs(want.sum), 1e-2 * want.abs_sum), `${k}: Σp ${sum} vs ${want.sum}`);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
}
