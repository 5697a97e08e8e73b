#!/usr/bin/env node
// fp32 vs dynamic int8 ONNX files of one model, in ONNX Runtime on this machine: file size,
// inference tokens/s (median of interleaved runs, same inputs, same threads) and, with a
// fine-tuned model (--model) and ../shared/data/sst2 present, SST-2 dev accuracy of both files.
//
// usage: node bench/quantize.mjs [--model DIR] [--batch 32] [--seq 128] [--threads 2] [--runs 7]
//   Without --model: BERT-mini shape (4 layers, hidden 256, 4 heads, vocab 30,522), random weights.
// Needs a build (npm run build). stdout: a table, then one JSON line with every number.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => import(join(ROOT, "dist", p));
const SST2_DEV = resolve(ROOT, "..", "shared", "data", "sst2", "dev.tsv");

function parseArgs(argv) {
  const o = { model: null, batch: 32, seq: 128, threads: 2, runs: 7 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    if (!(k in o)) fail(`unknown argument ${argv[i]} (expected --model, --batch, --seq, --threads, --runs)`);
    const v = argv[++i];
    if (v === undefined) fail(`--${k} needs a value`);
    o[k] = k === "model" ? v : Number(v);
    if (k !== "model" && !(Number.isInteger(o[k]) && o[k] > 0)) fail(`--${k} takes a positive integer, got ${v}`);
  }
  return o;
}

function fail(msg) {
  process.stderr.write(`quantize bench: ${msg}\n`);
  process.exit(2);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mb = (n) => (n / 1e6).toFixed(2);

async function session(bytes, threads) {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all", intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential" });
}

function ortFeeds(s, feeds) {
  return Object.fromEntries(s.inputNames.map((n) => [n, new ort.Tensor("int64", feeds[n].data, [...feeds[n].shape])]));
}

/** Median seconds per run of each session, runs interleaved so machine noise hits both alike. */
async function timeBoth(sessions, feeds, runs) {
  const times = sessions.map(() => []);
  for (const s of sessions) for (let w = 0; w < 2; w++) await s.run(ortFeeds(s, feeds)); // warm-up: kernels, arena
  for (let r = 0; r < runs; r++) {
    for (const [i, s] of sessions.entries()) {
      const f = ortFeeds(s, feeds);
      const t0 = process.hrtime.bigint();
      await s.run(f);
      times[i].push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }
  return times.map(median);
}

async function sst2Accuracy(m, sessions) {
  const { padRows } = await dist("cli/common.js");
  const lines = readFileSync(SST2_DEV, "utf8").trim().split("\n").slice(1);
  const rows = [], gold = [];
  for (const l of lines) {
    const [text, label] = l.split("\t");
    const e = await m.tokenizer.encode(text, null, { maxLength: 128, truncation: true });
    rows.push({ input_ids: e.ids, attention_mask: e.attentionMask, token_type_ids: e.typeIds });
    gold.push(Number(label));
  }
  // dataset label i = class i, unless the model's label2id names the dataset's labels.
  const l2i = m.model.config.label2id ?? {};
  const goldIdx = gold.map((g) => (String(g) in l2i ? l2i[String(g)] : g));
  const correct = sessions.map(() => 0);
  let agree = 0;
  for (let i = 0; i < rows.length; i += 32) {
    const feeds = padRows(rows.slice(i, i + 32), m.tokenizer.padTokenId ?? 0, m.tokenTypes);
    const preds = [];
    for (const s of sessions) {
      const out = (await s.run(ortFeeds(s, feeds))).logits;
      const C = out.dims[1];
      preds.push(Array.from({ length: out.dims[0] }, (_, b) => { const r = Array.from(out.data.subarray(b * C, (b + 1) * C)); return r.indexOf(Math.max(...r)); }));
    }
    preds.forEach((p, k) => p.forEach((c, b) => { if (c === goldIdx[i + b]) correct[k]++; }));
    preds[0].forEach((c, b) => { if (c === preds[1][b]) agree++; });
  }
  return { rows: rows.length, fp32: correct[0] / rows.length, int8: correct[1] / rows.length, agreement: agree / rows.length };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { traceForward } = await dist("models/forward.js");
  const { exportOnnx, dummyInputs } = await dist("export/onnx_export.js");
  const { quantizeDynamicInt8, encodeQuantized } = await dist("compress/quantize.js");
  let m;
  if (o.model) {
    m = await (await dist("cli/common.js")).loadForInference(o.model);
  } else {
    const { createModel } = await dist("models/auto.js");
    const config = { model_type: "bert", architectures: ["BertForSequenceClassification"], hidden_size: 256, num_hidden_layers: 4,
      num_attention_heads: 4, intermediate_size: 1024, vocab_size: 30522, max_position_embeddings: 512, type_vocab_size: 2,
      id2label: { 0: "NEGATIVE", 1: "POSITIVE" } };
    m = { model: createModel(config, "sequence-classification", 0), tokenTypes: true };
  }
  const c = m.model.config;
  process.stderr.write(`exporting ${o.model ?? "random BERT-mini"} (${c.num_hidden_layers ?? c.n_layers} layers, hidden ${c.hidden_size ?? c.dim})\n`);
  const tokenTypes = m.tokenTypes && Number(c.type_vocab_size ?? 2) > 1;
  const exp = exportOnnx(traceForward(m.model, { tokenTypes, outputs: ["logits"] }));
  const q = quantizeDynamicInt8(exp.model);
  const qbytes = encodeQuantized(q);
  const qNoEmb = quantizeDynamicInt8(exp.model, { embeddings: false });
  const qNoEmbBytes = encodeQuantized(qNoEmb);

  const sessions = [await session(exp.bytes, o.threads), await session(qbytes, o.threads)];
  const feeds = dummyInputs(exp.inputNames, { vocabSize: Number(c.vocab_size), batch: o.batch, seq: Math.min(o.seq, Number(c.max_position_embeddings ?? 512) - (c.model_type === "bert" || c.model_type === "distilbert" ? 0 : 2)) });
  const tokens = feeds.input_ids.shape[0] * feeds.input_ids.shape[1];
  process.stderr.write(`timing batch ${feeds.input_ids.shape.join(" x ")}, ${o.threads} threads, median of ${o.runs}\n`);
  const [tf, tq] = await timeBoth(sessions, feeds, o.runs);
  const result = {
    model: o.model ?? "random BERT-mini",
    bytes: { fp32: exp.bytes.length, int8: qbytes.length, int8_float_embeddings: qNoEmbBytes.length },
    quantized_weights: q.quantized.length,
    tokens_per_s: { fp32: Math.round(tokens / tf), int8: Math.round(tokens / tq) },
    speedup: Number((tf / tq).toFixed(2)),
    batch: feeds.input_ids.shape, threads: o.threads, runs: o.runs, onnxruntime: ort.env.versions?.node ?? "",
  };
  if (o.model && existsSync(SST2_DEV)) {
    process.stderr.write("SST-2 dev accuracy, fp32 and int8 files\n");
    result.sst2_dev = await sst2Accuracy(m, sessions);
  } else if (o.model) process.stderr.write(`SST-2 accuracy skipped: ${SST2_DEV} is absent\n`);
  for (const s of sessions) await s.release();

  const rows = [
    ["file", "fp32 (model.onnx)", "int8 (model_quantized.onnx)"],
    ["size MB", mb(result.bytes.fp32), `${mb(result.bytes.int8)} (${mb(result.bytes.int8_float_embeddings)} with float embeddings)`],
    ["tokens/s", String(result.tokens_per_s.fp32), `${result.tokens_per_s.int8} (${result.speedup}x)`],
  ];
  if (result.sst2_dev) rows.push(["SST-2 dev acc", (100 * result.sst2_dev.fp32).toFixed(2) + "%", `${(100 * result.sst2_dev.int8).toFixed(2)}% (${(100 * result.sst2_dev.agreement).toFixed(1)}% same predictions)`]);
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(r.map((x, i) => x.padEnd(w[i])).join("  ") + "\n");
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e) => fail(e instanceof Error ? e.message : String(e)));
