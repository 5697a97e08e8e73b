import { Command } from "commander";
import * as ort from "onnxruntime-node";
import type { NDArray } from "../core/ndarray.js";
import { Rng } from "../core/rng.js";
import { Graph, trace } from "../graph/graph.js";
import { BERT_DEFAULTS, BertForSequenceClassification, type BertConfig } from "../models/bert.js";
import { TrainStep } from "../optim/train_step.js";
import { matmul } from "../ops/matmul.js";
import { sum } from "../ops/reduce.js";
import { resolvePatterns } from "../train/param_groups.js";
import { CompiledGraph } from "../runtime/session.js";

export interface BenchOptions {
  layers: number;
  hidden: number;
  heads: number;
  vocab: number;
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
  threads: number;
  mode: "train" | "infer" | "gemm";
  /** gemm mode: the side n of the n×n·n×n float32 MatMul that measures the roofline. */
  size?: number;
  dropout: number;
  /** Modules kept frozen (the patterns of --freeze): no backward and no AdamW work for them. */
  freeze?: string[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Times BERT sequence-classification steps on synthetic data, the same model and settings as
 * ../shared/bench/torch_reference.py, and returns the figures it prints as JSON.
 */
export async function runBench(o: BenchOptions): Promise<Record<string, unknown>> {
  if (o.mode === "gemm") return runGemm(o.size ?? 2048, o.steps, o.warmup, o.threads);
  const config: BertConfig = {
    ...BERT_DEFAULTS,
    vocab_size: o.vocab,
    hidden_size: o.hidden,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    intermediate_size: 4 * o.hidden,
    hidden_dropout_prob: o.dropout,
    attention_probs_dropout_prob: o.dropout,
    num_labels: 2,
  };
  const model = new BertForSequenceClassification(config);
  model.initWeights(0);
  const params = model.parameters();
  const frozen = resolvePatterns(model, o.freeze ?? [], "--freeze");
  for (const p of params) p.requiresGrad = !frozen.has(p.name);
  const rng = new Rng(0, 1);
  const n = o.batch * o.seq;
  const batch: Record<string, NDArray> = {
    input_ids: { dtype: "int64", shape: [o.batch, o.seq], data: BigInt64Array.from({ length: n }, () => BigInt(rng.int(o.vocab))) },
    attention_mask: { dtype: "int64", shape: [o.batch, o.seq], data: new BigInt64Array(n).fill(1n) },
    labels: { dtype: "int64", shape: [o.batch], data: BigInt64Array.from({ length: o.batch }, () => BigInt(rng.int(2))) },
  };
  const inputs = [
    { name: "input_ids", shape: ["batch", "seq"], dtype: "int64" as const },
    { name: "attention_mask", shape: ["batch", "seq"], dtype: "int64" as const },
  ];
  const t0 = performance.now();
  let run: () => Promise<void>;
  let release: () => Promise<void>;
  let graphNodes = 0;
  if (o.mode === "train") {
    const step = await TrainStep.compile({
      inputs: [...inputs, { name: "labels", shape: ["batch"], dtype: "int64" }],
      forward: (x) => ({ loss: model.forward({ input_ids: x.input_ids, attention_mask: x.attention_mask, labels: x.labels }).loss! }),
      params,
      weightDecay: 0.01,
      maxGradNorm: 1.0,
      threads: o.threads,
      seed: 0,
    });
    graphNodes = step.graph.nodes.length;
    run = async () => void (await step.step(batch, 2e-5));
    release = () => step.release();
  } else {
    const g = new Graph();
    const logits = trace(g, () => {
      const ids = g.input("input_ids", ["batch", "seq"], "int64"), mask = g.input("attention_mask", ["batch", "seq"], "int64");
      return model.forward({ input_ids: ids, attention_mask: mask }).logits;
    });
    const compiled = await CompiledGraph.compile(g, { logits }, { threads: o.threads, name: "infer" });
    const feeds: Record<string, NDArray> = { input_ids: batch.input_ids, attention_mask: batch.attention_mask };
    for (const p of params) feeds[p.name] = { dtype: "float32", shape: [...p.shape], data: p.data };
    run = async () => void (await compiled.run(feeds));
    release = () => compiled.release();
  }
  const compileMs = performance.now() - t0;
  for (let i = 0; i < o.warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < o.steps; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  await release();
  const ms = median(times);
  return {
    engine: `whet onnxruntime-node ${ort.env.versions.node ?? ""}`.trim(),
    mode: o.mode,
    layers: o.layers,
    hidden: o.hidden,
    heads: o.heads,
    batch: o.batch,
    seq: o.seq,
    threads: o.threads,
    params: params.reduce((s, p) => s + p.size, 0),
    trainable: params.filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0),
    nodes: graphNodes,
    ms_per_step: Math.round(ms * 10) / 10,
    step_ms: times.map((t) => Math.round(t)),
    tokens_per_s: Math.round((o.batch * o.seq) / (ms / 1000)),
    compile_ms: Math.round(compileMs),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** MatMuls chained in one gemm-mode run: the final reduction is then a fraction of a percent. */
const GEMM_CHAIN = 4;

/**
 * The GEMM roofline: large float32 MatMuls through the same ONNX Runtime path as the training
 * step (MLAS). The products are chained inside one graph and reduced to a scalar, so no
 * n×n output is copied back (and page-faulted) per run: that copy cost as much as the product.
 */
async function runGemm(n: number, steps: number, warmup: number, threads: number): Promise<Record<string, unknown>> {
  const g = new Graph();
  const c = trace(g, () => {
    const a = g.input("a", [n, n], "float32"), b = g.input("b", [n, n], "float32");
    let x = matmul(a, b);
    for (let i = 1; i < GEMM_CHAIN; i++) x = matmul(x, b);
    return sum(x);
  });
  const compiled = await CompiledGraph.compile(g, { c }, { threads, name: "gemm" });
  const rng = new Rng(0, 2);
  const operand = (): NDArray => ({
    dtype: "float32", shape: [n, n], data: Float32Array.from({ length: n * n }, () => rng.uniform() - 0.5),
  });
  const feeds = { a: operand(), b: operand() };
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t = performance.now();
    await compiled.run(feeds);
    if (i >= warmup) times.push(performance.now() - t);
  }
  await compiled.release();
  const ms = median(times);
  const gflops = (GEMM_CHAIN * 2 * n ** 3) / (ms / 1000) / 1e9;
  return {
    engine: `whet onnxruntime-node ${ort.env.versions.node ?? ""}`.trim(),
    mode: "gemm", size: n, threads, ms_per_step: Math.round(ms * 10) / 10, gflops: Math.round(gflops * 10) / 10,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

export function benchCommand(): Command {
  const int = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got "${v}"`);
    return n;
  };
  return new Command("bench")
    .description("time BERT training or inference steps on synthetic data (prints one JSON line last)")
    .option("--layers <n>", "encoder layers", int, 4)
    .option("--hidden <n>", "hidden size", int, 256)
    .option("--heads <n>", "attention heads", int, 4)
    .option("--vocab <n>", "vocabulary size", int, 30522)
    .option("--batch <n>", "batch size", int, 32)
    .option("--seq <n>", "sequence length", int, 128)
    .option("--steps <n>", "timed steps (the median is reported)", int, 5)
    .option("--warmup <n>", "untimed steps first", int, 2)
    .option("--threads <n>", "ONNX Runtime intra-op threads", int, 2)
    .option("--dropout <p>", "dropout probability", Number, 0.1)
    .option("--mode <mode>", "train, infer, or gemm (the MatMul roofline)", "train")
    .option("--size <n>", "gemm mode: the MatMul side n (n×n·n×n)", int, 2048)
    .option("--freeze <patterns>", "comma list of modules to freeze (as whet train --freeze)", (v: string) => v.split(",").filter(Boolean))
    .action(async (opts) => {
      if (!["train", "infer", "gemm"].includes(opts.mode)) {
        throw new Error(`--mode must be train, infer or gemm, got "${opts.mode}"`);
      }
      const res = await runBench(opts as BenchOptions);
      console.log(JSON.stringify(res));
    });
}
