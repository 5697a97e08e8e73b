#!/usr/bin/env node
// LoRA vs full fine-tuning on a BERT-base-sized model (12 layers, hidden 768, 12 heads, vocab
// 30522; random weights: no pretrained checkpoint is reachable here), same batch and sequence
// length, one run: training-step time, peak RSS, checkpoint size and trainable parameters.
// Each mode runs in its own process so that peak RSS (getrusage's maxrss) is that mode's alone.
// A benchmark, not a test.
//
// usage: node bench/peft.mjs [--batch 8] [--seq 128] [--steps 5] [--warmup 2] [--threads 2]
//          [--r 8] [--targets query,value] [--layers 12] [--hidden 768]
// Needs a build (npm run build). stdout: a table, then one JSON line with every number.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dist = (p) => import(join(root, "dist", p));
const { values: o } = parseArgs({
  options: {
    batch: { type: "string", default: "8" }, seq: { type: "string", default: "128" }, steps: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" }, threads: { type: "string", default: "2" }, r: { type: "string", default: "8" },
    targets: { type: "string", default: "query,value" }, layers: { type: "string", default: "12" }, hidden: { type: "string", default: "768" },
    mode: { type: "string" },
  },
});

/** One mode in this process: build, attach (LoRA), compile, time the steps, save a checkpoint. */
async function measure(mode) {
  const { createModel } = await dist("models/auto.js");
  const { TrainStep } = await dist("optim/train_step.js");
  const { attachAdapter } = await dist("train/adapter_model.js");
  const { parsePeftConfig } = await dist("peft/config.js");
  const { saveAdapter } = await dist("peft/adapter_files.js");
  const { saveModel } = await dist("models/save.js");
  const hidden = Number(o.hidden), B = Number(o.batch), T = Number(o.seq);
  const config = {
    model_type: "bert", vocab_size: 30522, hidden_size: hidden, num_hidden_layers: Number(o.layers), num_attention_heads: hidden / 64,
    intermediate_size: 4 * hidden, max_position_embeddings: 512, num_labels: 2, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
  };
  const model = createModel(config, "sequence-classification", 42);
  const adapter = mode === "lora"
    ? attachAdapter(model, parsePeftConfig({ peft_type: "LORA", task_type: "SEQ_CLS", r: Number(o.r), lora_alpha: 2 * Number(o.r), target_modules: o.targets.split(",") }), 42)
    : null;
  const t0 = performance.now();
  const step = await TrainStep.compile({
    inputs: [
      { name: "input_ids", shape: ["batch", "seq"], dtype: "int64" }, { name: "attention_mask", shape: ["batch", "seq"], dtype: "int64" },
      { name: "token_type_ids", shape: ["batch", "seq"], dtype: "int64" }, { name: "labels", shape: ["batch"], dtype: "int64" },
    ],
    forward: (x) => ({ loss: model.forward({ input_ids: x.input_ids, attention_mask: x.attention_mask, token_type_ids: x.token_type_ids, labels: x.labels }).loss }),
    params: model.parameters(), weightDecay: 0.01, threads: Number(o.threads), seed: 42,
  });
  const compileMs = performance.now() - t0;
  let s = 12345;
  const rand = (n) => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
  const i64 = (f) => ({ dtype: "int64", shape: [B, T], data: BigInt64Array.from({ length: B * T }, f) });
  const batch = { input_ids: i64(() => BigInt(rand(30522))), attention_mask: i64(() => 1n), token_type_ids: i64(() => 0n),
    labels: { dtype: "int64", shape: [B], data: BigInt64Array.from({ length: B }, (_, i) => BigInt(i % 2)) } };
  const times = [];
  for (let i = 0; i < Number(o.warmup) + Number(o.steps); i++) {
    const a = performance.now();
    await step.step(batch, 1e-4);
    if (i >= Number(o.warmup)) times.push(performance.now() - a);
  }
  const dir = await mkdtemp(join(tmpdir(), `whet-peft-bench-${mode}-`));
  let weightsBytes;
  if (adapter) {
    await saveAdapter(dir, adapter, "bench");
    weightsBytes = (await stat(join(dir, "adapter_model.safetensors"))).size;
  } else {
    await saveModel(model, dir);
    weightsBytes = (await stat(join(dir, "model.safetensors"))).size;
  }
  await rm(dir, { recursive: true, force: true });
  const trainable = step.trainable.reduce((n, p) => n + p.data.length, 0);
  const all = model.parameters().reduce((n, p) => n + p.data.length, 0);
  await step.release();
  times.sort((a, b) => a - b);
  return {
    mode, step_ms_median: times[Math.floor(times.length / 2)], step_ms_all: times.map((t) => Math.round(t)), compile_ms: Math.round(compileMs),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), trainable_params: trainable, all_params: all, weights_file_bytes: weightsBytes,
    // A checkpoint holds the weights file plus AdamW's two moments per trainable tensor.
    checkpoint_bytes: weightsBytes + 2 * 4 * trainable,
  };
}

if (o.mode) {
  console.log(JSON.stringify(await measure(o.mode)));
  process.exit(0);
}
const argv = process.argv.slice(2);
const runs = {};
for (const mode of ["full", "lora"]) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...argv, "--mode", mode], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  runs[mode] = JSON.parse(r.stdout.trim().split("\n").at(-1));
}
const { full, lora } = runs;
const row = (k, f = (v) => String(v)) => `${k.padEnd(22)} ${f(full[k]).padStart(14)} ${f(lora[k]).padStart(14)}   ${(lora[k] / full[k]).toFixed(4)}`;
console.log(`BERT-base-sized (layers ${o.layers}, hidden ${o.hidden}), batch ${o.batch} × seq ${o.seq}, threads ${o.threads}, LoRA r=${o.r} on ${o.targets}`);
console.log(`${"".padEnd(22)} ${"full".padStart(14)} ${"lora".padStart(14)}   lora/full`);
for (const k of ["step_ms_median", "peak_rss_mb", "trainable_params", "weights_file_bytes", "checkpoint_bytes", "compile_ms"]) {
  console.log(row(k, (v) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v))));
}
console.log(`speed-up ${(full.step_ms_median / lora.step_ms_median).toFixed(2)}×; adapter file ${(100 * lora.weights_file_bytes / full.weights_file_bytes).toFixed(2)}% of the model`);
console.log(JSON.stringify({ settings: o, full, lora }));
