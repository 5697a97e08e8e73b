// Fine-tuning strategies from the command line, as a user runs them: string labels, a run config,
// the four families' head and layer names, and the mistakes a user makes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readSafetensorsFile, toFloat32 } from "../io/safetensors.js";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const fx = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const traj = join(fx, "trajectories", "bert-seq");

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function inTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-ft-cli-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const DATA = ["--train-file", join(traj, "train.csv"), "--validation-file", join(traj, "eval.csv"), "--max-length", "32", "--threads", "1",
  "--per-device-train-batch-size", "32", "--learning-rate", "2e-3", "--save-strategy", "no"];

async function tensors(path: string): Promise<Map<string, Float32Array>> {
  const { tensors } = await readSafetensorsFile(path);
  return new Map([...tensors].map(([k, t]) => [k, Float32Array.from(toFloat32(t))]));
}

test("cli: DistilBERT with --layerwise-lr-decay, --freeze and param_groups from a run config", async () => {
  await inTmp(async (dir) => {
    writeFileSync(join(dir, "run.yaml"), "param_groups:\n  - match: classifier\n    learning_rate: 1.0e-2\nfreeze: [layer.0.attention]\n");
    const model = join(fx, "hf", "distilbert-seq");
    const r = whet(["train", "--model", model, ...DATA, "--config", "run.yaml", "--layerwise-lr-decay", "0.5", "--num-train-epochs", "1", "--output-dir", "out"], dir);
    assert.equal(r.code, 0, r.err);
    const run = JSON.parse(readFileSync(join(dir, "out", "run.json"), "utf8"));
    const groups = Object.fromEntries(run.fine_tuning.groups.map((g: { name: string }) => [g.name, g]));
    assert.equal(groups.classifier.lr, 1e-2);
    assert.equal(groups.head.lr, 2e-3);
    assert.ok(Math.abs(groups["layer 1"].lr - 1e-3) < 1e-15 && Math.abs(groups["layer 0"].lr - 5e-4) < 1e-15);
    assert.ok(Math.abs(groups.embeddings.lr - 2.5e-4) < 1e-15);
    assert.deepEqual(run.fine_tuning.frozen, [
      "q_lin.weight", "q_lin.bias", "k_lin.weight", "k_lin.bias", "v_lin.weight", "v_lin.bias", "out_lin.weight", "out_lin.bias",
    ].map((n) => `distilbert.transformer.layer.0.attention.${n}`));
    const report = JSON.parse(readFileSync(join(dir, "out", "data_report.json"), "utf8"));
    assert.equal(report.parameters.total - report.parameters.trainable, 4 * (32 * 32 + 32));
    assert.match(r.err, /Parameters: [\d,]+ of [\d,]+ trainable/);
    const before = await tensors(join(model, "model.safetensors")), after = await tensors(join(dir, "out", "model.safetensors"));
    assert.deepEqual(after.get("distilbert.transformer.layer.0.attention.q_lin.weight"), before.get("distilbert.transformer.layer.0.attention.q_lin.weight"));
    assert.notDeepEqual(after.get("distilbert.transformer.layer.0.ffn.lin1.weight"), before.get("distilbert.transformer.layer.0.ffn.lin1.weight"));
  });
});

test("cli: RoBERTa with --gradual-unfreezing opens one layer per epoch, the embeddings last", async () => {
  await inTmp(async (dir) => {
    const model = join(fx, "hf", "roberta-seq");
    const r = whet(["train", "--model", model, ...DATA, "--gradual-unfreezing", "--num-train-epochs", "2", "--output-dir", "out"], dir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /2 epochs reach head \+ layer 1; the embeddings and lower layers stay frozen/);
    assert.match(r.err, /gradual unfreezing at step 8: head \+ layer 1 trainable/);
    const record = JSON.parse(readFileSync(join(dir, "out", "run.json"), "utf8")).fine_tuning;
    assert.deepEqual(record.unfreezing.map((u: { trainable: string }) => u.trainable), ["head only", "head + layer 1", "everything"]);
    assert.equal(record.unfreezing[2].trainable_parameters, record.total_parameters);
    assert.equal(record.trainable_parameters, record.unfreezing[0].trainable_parameters);
    const before = await tensors(join(model, "model.safetensors")), after = await tensors(join(dir, "out", "model.safetensors"));
    assert.deepEqual(after.get("roberta.embeddings.word_embeddings.weight"), before.get("roberta.embeddings.word_embeddings.weight"));
    assert.deepEqual(after.get("roberta.encoder.layer.0.output.dense.weight"), before.get("roberta.encoder.layer.0.output.dense.weight"));
    assert.notDeepEqual(after.get("roberta.encoder.layer.1.output.dense.weight"), before.get("roberta.encoder.layer.1.output.dense.weight"));
    const steps = whet(["train", "--model", model, ...DATA, "--gradual-unfreezing", "--unfreeze-every-steps", "3", "--max-steps", "7", "--eval-strategy", "no", "--output-dir", "s"], dir);
    assert.equal(steps.code, 0, steps.err);
    assert.match(steps.err, /at step 3: head \+ layer 1 trainable[^]*at step 6: everything trainable/);
  });
});

test("cli: bad strategy options are usage errors (exit 2) naming the option", async () => {
  await inTmp(async (dir) => {
    const model = ["--model", join(fx, "hf", "bert-seq"), ...DATA, "--output-dir", "out"];
    const cases: [string[], RegExp][] = [
      [["--layerwise-lr-decay", "1.5"], /layerwise_lr_decay \(--layerwise-lr-decay\)/],
      [["--layerwise-lr-decay", "0"], /layerwise_lr_decay \(--layerwise-lr-decay\)/],
      [["--gradual-unfreezing", "--num-train-epochs", "1"], /--gradual-unfreezing.*--num-train-epochs/],
      [["--unfreeze-every-steps", "4"], /--unfreeze-every-steps\) needs gradual_unfreezing/],
      [["--freeze", "bert,classifier"], /freeze \(--freeze\).*freezes every parameter/],
      [["--freeze", "pooler,decoder"], /freeze \(--freeze\): "decoder" matches no module or parameter of this model; its modules are: bert, bert\.embeddings/],
      [["--param-groups", "[{\"match\": \"classifier\", \"lr\": 1}]"], /param_groups.0 \(--param-groups\): unknown key "lr" \(did you mean learning_rate\?\)/],
    ];
    for (const [args, message] of cases) {
      const r = whet(["train", ...model, ...args], dir);
      assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.err}`);
      assert.match(r.err, message, args.join(" "));
    }
  });
});
