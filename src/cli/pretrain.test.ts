// `whet pretrain` end to end on a corpus written here: a fresh BERT with a WordPiece vocabulary
// trained on the corpus, continued pretraining of the result, and resuming bit for bit.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readConfig } from "../io/config.js";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { resolveArguments, type TrainingArgumentsInput } from "../train/arguments.js";
import { checkStart } from "../recipes/pretrain_start.js";
import { runPretrain, type PretrainSpec } from "../recipes/pretraining.js";

const ANIMALS = ["cat", "dog", "horse", "sheep", "goat", "lion"], VERBS = ["eats", "sees", "chases", "follows"], PLACES = ["barn", "river", "field"];
/** 240 short documents, the same every run. */
const DOCS = Array.from({ length: 240 }, (_, i) => `the ${ANIMALS[i % 6]} ${VERBS[(i * 7) % 4]} the ${ANIMALS[(i * 5 + 1) % 6]} near the ${PLACES[(i * 3) % 3]}.`);

async function inTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-pretrain-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const args = (over: TrainingArgumentsInput) => resolveArguments({
  learning_rate: 3e-3, per_device_train_batch_size: 8, num_train_epochs: 2, max_length: 16, eval_strategy: "no", save_strategy: "no", threads: 1, logging_steps: 100, ...over,
});
const TINY: Partial<PretrainSpec> = {
  modelType: "bert", trainTokenizer: true, vocabSize: 60, validationSplit: 0.1,
  architecture: { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 },
};
const quiet = () => {};

test("pretrain: a fresh BERT with a trained vocabulary, saved as BertForMaskedLM that loads back", async () => {
  await inTmp(async (dir) => {
    const out = join(dir, "mlm");
    const r = await runPretrain({ ...TINY, documents: DOCS, args: args({ output_dir: out, num_train_epochs: 4 }), log: quiet, wholeWordMasking: true });
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "eval_results.json", "run.json"]) {
      assert.ok(existsSync(join(out, f)), `${f} is written`);
    }
    const config = readConfig(out);
    assert.deepEqual(config.architectures, ["BertForMaskedLM"]);
    assert.equal(config.id2label, undefined);
    assert.equal(config.hidden_size, 16);
    const tok = await loadTokenizer(out);
    assert.equal(config.vocab_size, tok.totalVocabSize);
    assert.deepEqual([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId], [0, 1, 2, 3, 4]);
    const e = await tok.encode("the cat sees the goat");
    assert.deepEqual(e.tokens.slice(0, 3), ["[CLS]", "the", "cat"]);
    assert.equal(await tok.decode(e.ids, { skipSpecialTokens: true }), "the cat sees the goat");
    const { report } = await fromPretrained(out, { task: "masked-lm" });
    assert.deepEqual(report.initialized, []);
    assert.ok(r.evalLoss! < r.evalLossBefore!, `held-out loss ${r.evalLossBefore} -> ${r.evalLoss}`);
    const results = JSON.parse(readFileSync(join(out, "eval_results.json"), "utf8"));
    assert.equal(results.eval_loss, r.evalLoss);

    // Continued pretraining of that model: its own tokenizer and weights, nothing drawn fresh.
    const more = await runPretrain({ model: out, documents: DOCS.slice(0, 40), args: args({ output_dir: join(dir, "more"), max_steps: 2 }), log: quiet, validationSplit: 0 });
    assert.equal(more.globalStep, 2);
    assert.equal(more.evalLoss, null);
    assert.deepEqual(readConfig(join(dir, "more")).architectures, ["BertForMaskedLM"]);
  });
});

test("pretrain: a run resumed from its checkpoint ends bit-identical (same masks, same vocabulary)", async () => {
  await inTmp(async (dir) => {
    const a = join(dir, "a"), b = join(dir, "b");
    const full = await runPretrain({ ...TINY, documents: DOCS, args: args({ output_dir: a, save_strategy: "epoch" }), log: quiet });
    const perEpoch = full.globalStep / 2;
    cpSync(join(a, `checkpoint-${perEpoch}`), join(b, `checkpoint-${perEpoch}`), { recursive: true });
    const resumed = await runPretrain({ ...TINY, documents: DOCS, args: args({ output_dir: b, save_strategy: "epoch", resume_from_checkpoint: true }), log: quiet });
    assert.equal(resumed.globalStep, full.globalStep);
    assert.ok(readFileSync(join(a, "model.safetensors")).equals(readFileSync(join(b, "model.safetensors"))), "final weights differ");
  });
});

test("pretrain: the starting point's flags are checked before any work", () => {
  assert.throws(() => checkStart({ model: "m", modelType: "bert" }), /exactly one of --model .* got --model and --model-type/);
  assert.throws(() => checkStart({}), /got none/);
  assert.throws(() => checkStart({ modelType: "bert" }), /needs a tokenizer/);
  assert.throws(() => checkStart({ modelType: "gpt2", trainTokenizer: true }), /"gpt2" is not supported/);
  assert.throws(() => checkStart({ model: "m", trainTokenizer: true }), /own tokenizer/);
  assert.throws(() => checkStart({ configFrom: "m", vocabSize: 100 }), /add --train-tokenizer/);
  assert.throws(() => checkStart({ modelType: "bert", trainTokenizer: true, architecture: { hidden_size: 0 } }), /--hidden-size must be a positive integer/);
});

test("pretrain: the command reads a .jsonl corpus and prints one JSON line", async () => {
  await inTmp(async (dir) => {
    writeFileSync(join(dir, "corpus.jsonl"), DOCS.slice(0, 80).map((t) => JSON.stringify({ text: t }) + "\n").join(""));
    const mod = new URL("./pretrain.js", import.meta.url).href;
    const script = `import { pretrainCommand } from ${JSON.stringify(mod)}; await pretrainCommand().parseAsync(process.argv.slice(1), { from: "user" });`;
    const run = (extra: string[]) => spawnSync(process.execPath, ["--input-type=module", "-e", script, "--", "--model-type", "bert", "--train-tokenizer", "--vocab-size", "50",
      "--hidden-size", "16", "--num-hidden-layers", "1", "--num-attention-heads", "2", "--intermediate-size", "32", "--max-position-embeddings", "32",
      "--train-file", "corpus.jsonl", "--max-length", "16", "--per-device-train-batch-size", "8", "--max-steps", "3", "--threads", "1", "--save-strategy", "no", ...extra], { cwd: dir, encoding: "utf8" });
    const r = run(["--output-dir", "out", "--whole-word-masking", "--mlm-probability", "0.2"]);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.equal(res.global_step, 3);
    assert.equal(res.output_dir, "out");
    const bad = run(["--output-dir", "out2", "--max-position-embeddings", "8"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /max_length 16 exceeds the model's 8 positions/);
  });
});

test("pretrain --config-from: that model's config and tokenizer, fresh weights, sizes overridable", async () => {
  await inTmp(async (dir) => {
    const from = fileURLToPath(new URL("../../fixtures/hf/bert-mlm", import.meta.url));
    const r = await runPretrain({ configFrom: from, architecture: { num_hidden_layers: 1 }, documents: DOCS.slice(0, 40), args: args({ output_dir: join(dir, "o"), max_steps: 2 }), log: quiet });
    const c = readConfig(join(dir, "o"));
    assert.deepEqual([c.hidden_size, c.num_hidden_layers, c.vocab_size, c.architectures], [32, 1, 1000, ["BertForMaskedLM"]]);
    assert.equal(r.globalStep, 2);
    assert.deepEqual(readFileSync(join(dir, "o", "vocab.txt")), readFileSync(join(from, "vocab.txt")));
  });
});

test("pretrain: evaluation on schedule reports the held-out masked-LM loss, perplexity and accuracy", async () => {
  await inTmp(async (dir) => {
    const lines: string[] = [];
    const r = await runPretrain({
      ...TINY, documents: DOCS, log: (l) => lines.push(l),
      args: args({ output_dir: join(dir, "o"), eval_strategy: "epoch", save_strategy: "epoch", load_best_model_at_end: true, metric_for_best_model: "perplexity" }),
    });
    const evals = lines.filter((l) => /perplexity/.test(l) && /accuracy/.test(l));
    assert.equal(evals.length, 2, lines.join("\n"));
    // Lower perplexity is better; the best model is restored, so the final held-out loss (the same
    // blocks and masks) is the lowest scheduled one.
    const losses = evals.map((l) => Number(/loss (\d+\.\d+)/.exec(l)![1]));
    assert.ok(Math.abs(r.evalLoss! - Math.min(...losses)) < 1e-4, `${r.evalLoss} vs ${losses}`);
    await assert.rejects(runPretrain({ ...TINY, documents: DOCS, validationSplit: 0, log: quiet, args: args({ output_dir: join(dir, "p"), eval_strategy: "epoch" }) }), /needs held-out blocks/);
  });
});
