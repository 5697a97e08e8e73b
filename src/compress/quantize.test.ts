// Dynamic int8 quantization on a small hand-traced encoder (compress cannot import models): the
// rewritten file runs in ONNX Runtime, stays close to float32, and stores weights in a quarter.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as ort from "onnxruntime-node";
import { Rng } from "../core/rng.js";
import { Graph, trace } from "../graph/graph.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";
import { gelu } from "../ops/activation.js";
import { add, cast, div, mul } from "../ops/elementwise.js";
import { embedding } from "../ops/gather.js";
import { unsqueeze } from "../ops/layout.js";
import { matmul } from "../ops/matmul.js";
import { sum } from "../ops/reduce.js";
import { softmax } from "../ops/softmax.js";
import { lowerGraph } from "../runtime/lower.js";
import { encodeModel, type OnnxModel } from "../runtime/onnx_proto.js";
import { encodeQuantized, quantizeDynamicInt8, quantizeRows } from "./quantize.js";

const V = 512, H = 64, F = 256, C = 4, B = 16, T = 12;

function param(name: string, shape: number[], rng: Rng, std = 0.05): ParamSpec {
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => std * rng.normal());
  return { name, shape, data, requiresGrad: false, noDecay: false };
}

/** One attention-like block and a feed-forward layer with BERT's weight layouts, lowered with its weights inside. */
function tinyModel(): OnnxModel {
  const rng = new Rng(7);
  const g = new Graph();
  return trace(g, () => {
    const ids = g.input("input_ids", ["batch", "seq"], "int64");
    const mask = g.input("attention_mask", ["batch", "seq"], "int64");
    const linear = (x: Tensor, name: string, i: number, o: number) =>
      add(matmul(x, g.param(param(`${name}.weight`, [o, i], rng)), false, true), g.param(param(`${name}.bias`, [o], rng, 0.01))); // [.., i] @ [o, i]ᵀ
    const x = embedding(g.param(param("embeddings.word_embeddings.weight", [V, H], rng, 0.5)), ids); // [B, T, H]
    const q = linear(x, "attention.query", H, H), k = linear(x, "attention.key", H, H);
    const v = matmul(x, g.param(param("attention.value_kn", [H, H], rng, 0.1))); // plain MatMul, weight stored [K, N]
    const probs = softmax(mul(matmul(q, k, false, true), 1 / Math.sqrt(H))); // activations x activations: stays float
    const a = add(x, matmul(probs, v)); // [B, T, H]
    const h = add(a, linear(gelu(linear(a, "intermediate.dense", H, F)), "output.dense", F, H));
    const m = unsqueeze(cast(mask, "float32"), 2); // [B, T] -> [B, T, 1]
    const pooled = div(sum(mul(h, m), [1]), sum(m, [1])); // [B, H]
    const logits = mul(linear(pooled, "classifier", H, C), 10);
    return lowerGraph(g, { logits }, { paramsAsInitializers: true, keepInputs: [ids, mask] }).model;
  });
}

function feeds(): Record<string, ort.Tensor> {
  const rng = new Rng(3);
  const ids = BigInt64Array.from({ length: B * T }, () => BigInt(rng.int(V)));
  const mask = BigInt64Array.from({ length: B * T }, (_, i) => (i % T < T - (i / T | 0) % 4 ? 1n : 0n));
  return { input_ids: new ort.Tensor("int64", ids, [B, T]), attention_mask: new ort.Tensor("int64", mask, [B, T]) };
}

async function logits(bytes: Uint8Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const out = await s.run(feeds());
  await s.release();
  return out.logits.data as Float32Array;
}

function centredCosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let r = 0; r < a.length / C; r++) {
    const row = (x: Float32Array) => Array.from(x.subarray(r * C, (r + 1) * C));
    const [x, y] = [row(a), row(b)].map((v) => { const m = v.reduce((s, e) => s + e, 0) / C; return v.map((e) => e - m); });
    x.forEach((e, i) => { dot += e * y[i]; na += e * e; nb += y[i] * y[i]; });
  }
  return dot / Math.sqrt(na * nb);
}

const argmax = (x: Float32Array, r: number) => { const row = Array.from(x.subarray(r * C, (r + 1) * C)); return row.indexOf(Math.max(...row)); };

test("quantizeRows: one symmetric scale per row, the row's largest magnitude maps to ±127", () => {
  const w = Float32Array.from([0.5, -1, 0.25, 0, 0, 0, 2, 1, -0.02]);
  const { q, scale } = quantizeRows(w, 3, 3);
  assert.deepEqual(Array.from(scale), [1 / 127, 1, 2 / 127].map(Math.fround));
  assert.deepEqual(Array.from(q), [64, -127, 32, 0, 0, 0, 127, 64, -1]);
  assert.deepEqual(Array.from(quantizeRows(w, 3, 3, 63).q.subarray(0, 3)), [32, -63, 16]);
  assert.throws(() => quantizeRows(w, 2, 3), /\[2, 3\] needs 6 values, got 9/);
});

test("quantize: every constant-weight product and the embedding become int8; logits stay close; weights take a quarter", async () => {
  const model = tinyModel();
  const nodesBefore = model.nodes.length;
  const q = quantizeDynamicInt8(model);
  assert.equal(model.nodes.length, nodesBefore, "the input model is left as it was");
  assert.deepEqual(q.quantized.sort(), ["attention.key.weight", "attention.query.weight", "attention.value_kn", "classifier.weight",
    "embeddings.word_embeddings.weight", "intermediate.dense.weight", "output.dense.weight"]);
  const inits = new Set(q.model.initializers.map((i) => i.name));
  for (const name of q.quantized) assert.ok(!inits.has(name), `${name} is no longer stored in float32`);
  const floatProducts = q.model.nodes.filter((n) => ["MatMul", "FusedMatMul"].includes(n.opType));
  assert.equal(floatProducts.length, 2, "only the two activation x activation products stay float");
  // query, key and value read the same activation: it is quantized once (4 activations in all).
  assert.equal(q.model.nodes.filter((n) => n.opType === "DynamicQuantizeLinear").length, 4);

  const fp32 = encodeModel(model), int8 = encodeQuantized(q);
  const [want, got] = [await logits(fp32), await logits(int8)];
  const cos = centredCosine(want, got);
  const agree = Array.from({ length: B }, (_, r) => argmax(want, r) === argmax(got, r)).filter(Boolean).length;
  assert.ok(cos > 0.99, `cosine ${cos}`);
  assert.ok(agree >= B - 2, `argmax agrees on ${agree}/${B} rows`);
  assert.ok(q.floatBytes / q.quantizedBytes > 3.7, `weights ${q.floatBytes} -> ${q.quantizedBytes} bytes`);
  assert.ok(fp32.length / int8.length > 3.3, `file ${fp32.length} -> ${int8.length} bytes`);
});

test("quantize: include / exclude choose weights by name; the rest stay float32 and are reported", async () => {
  const model = tinyModel();
  const q = quantizeDynamicInt8(model, { include: /attention|dense/, exclude: /output/, embeddings: false });
  assert.deepEqual(q.quantized.sort(), ["attention.key.weight", "attention.query.weight", "attention.value_kn", "intermediate.dense.weight"]);
  assert.deepEqual(q.skipped.map((s) => `${s.name}: ${s.reason}`).sort(), ["classifier.weight: not matched by include", "output.dense.weight: matched by exclude"]);
  const inits = new Set(q.model.initializers.map((i) => i.name));
  for (const name of ["classifier.weight", "output.dense.weight", "embeddings.word_embeddings.weight"]) assert.ok(inits.has(name));
  const [want, got] = [await logits(encodeModel(model)), await logits(encodeQuantized(q))];
  assert.ok(centredCosine(want, got) > 0.99);
});

test("quantize: a pattern that matches nothing leaves the graph as it was and says why", () => {
  const model = tinyModel();
  const q = quantizeDynamicInt8(model, { include: /no such weight/ });
  assert.deepEqual(q.quantized, []);
  assert.equal(q.int8.length, 0);
  assert.deepEqual(q.model.nodes, model.nodes);
  assert.equal(q.skipped.length, 7);
  assert.ok(q.skipped.every((s) => s.reason === "not matched by include"));
});
