// Export of a small hand-traced encoder (export cannot import models: a peer level): the file's
// signature, its agreement with whet's forward, the opset upgrade and the refusals.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as ort from "onnxruntime-node";
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { Graph, trace } from "../graph/graph.js";
import type { ParamSpec } from "../graph/param.js";
import { gelu } from "../ops/activation.js";
import { add, cast, div, mul, sub } from "../ops/elementwise.js";
import { embedding } from "../ops/gather.js";
import { unsqueeze } from "../ops/layout.js";
import { matmul } from "../ops/matmul.js";
import { mean, sum } from "../ops/reduce.js";
import { compareLogits, dummyInputs, exportOnnx, runOnnx, validateExport, type TracedForward } from "./onnx_export.js";

const V = 50, H = 8, C = 3;

function param(name: string, shape: number[], rng: Rng): ParamSpec {
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.3 * rng.normal());
  return { name, shape, data, requiresGrad: false, noDecay: false };
}

/** Embeddings -> centred GELU layer -> masked mean pool -> classifier, traced like traceForward. */
function tinyEncoder(seed = 1, extra?: ParamSpec): TracedForward {
  const rng = new Rng(seed);
  const g = new Graph();
  return trace(g, () => {
    const ids = g.input("input_ids", ["batch", "seq"], "int64");
    const mask = g.input("attention_mask", ["batch", "seq"], "int64");
    const types = g.input("token_type_ids", ["batch", "seq"], "int64");
    let x = add(embedding(g.param(param("emb.word.weight", [V, H], rng)), ids), embedding(g.param(param("emb.type.weight", [2, H], rng)), types)); // [B, T, H]
    if (extra) x = add(x, embedding(g.param(extra), ids));
    let h = gelu(add(matmul(x, g.param(param("dense.weight", [H, H], rng)), false, true), g.param(param("dense.bias", [H], rng))));
    h = sub(h, mean(h, [2], true)); // ReduceMean: its axes move to an input at opset 18
    const m = unsqueeze(cast(mask, "float32"), 2); // [B, T] -> [B, T, 1]
    const pooled = div(sum(mul(h, m), [1]), sum(m, [1])); // [B, H]
    const logits = add(matmul(pooled, g.param(param("classifier.weight", [C, H], rng)), false, true), g.param(param("classifier.bias", [C], rng)));
    return { graph: g, inputs: [ids, mask, types], outputs: { logits } };
  });
}

test("export: int64 inputs with Optimum's dynamic axes, parameters inside, output logits", async () => {
  const traced = tinyEncoder();
  const exp = exportOnnx(traced);
  assert.deepEqual(exp.inputNames, ["input_ids", "attention_mask", "token_type_ids"]);
  assert.deepEqual(exp.outputNames, ["logits"]);
  for (const i of exp.model.inputs) assert.deepEqual([i.dtype, ...i.shape], ["int64", "batch_size", "sequence_length"]);
  assert.deepEqual(exp.model.outputs[0].shape, ["batch_size", C]);
  assert.ok(exp.model.initializers.some((i) => i.name === "emb.word.weight"), "parameters are initializers");

  const session = await ort.InferenceSession.create(exp.bytes);
  assert.deepEqual([...session.inputNames], exp.inputNames);
  await session.release();
  const feeds = dummyInputs(exp.inputNames, { vocabSize: V, batch: 2, seq: 5 });
  const out = await runOnnx(exp.bytes, feeds, 1);
  assert.deepEqual(out.logits.shape, [2, C]);
});

test("export: the file agrees with whet's forward within 1e-4 at several shapes", async () => {
  const traced = tinyEncoder();
  const exp = exportOnnx(traced);
  const sets = [dummyInputs(exp.inputNames, { vocabSize: V, batch: 2, seq: 16 }), dummyInputs(exp.inputNames, { vocabSize: V, batch: 3, seq: 4, seed: 2 })];
  const r = await validateExport(exp.bytes, traced, sets, { threads: 1 });
  assert.ok(r.logits.maxAbsDiff <= 1e-4, String(r.logits.maxAbsDiff));
  assert.equal(r.logits.argmaxAgreement, 1);
});

test("export: a file that no longer matches the weights fails the check, quoting the difference", async () => {
  const traced = tinyEncoder();
  const exp = exportOnnx(traced);
  const w = traced.graph.params.get("classifier.bias")!;
  if (w.source.kind === "param") w.source.param.data[0] += 0.5; // the model moved on after export
  const feeds = dummyInputs(exp.inputNames, { vocabSize: V });
  await assert.rejects(validateExport(exp.bytes, traced, [feeds], { threads: 1 }), /export check failed: "logits" differs from whet's forward by 5\.00e-1 \(tolerance 0\.0001\) on inputs \[2, 16\]/);
});

test("export: opsets 18-21 move reduction axes to inputs and run the same; others are refused", async () => {
  const traced = tinyEncoder();
  const feeds = dummyInputs(["input_ids", "attention_mask", "token_type_ids"], { vocabSize: V });
  const base = (await runOnnx(exportOnnx(traced).bytes, feeds, 1)).logits;
  for (const opset of [18, 21]) {
    const exp = exportOnnx(traced, { opset });
    assert.equal(exp.model.opsets.find((o) => o.domain === "")!.version, opset);
    const rm = exp.model.nodes.find((n) => n.opType === "ReduceMean")!;
    assert.equal(rm.attrs?.axes, undefined);
    assert.equal(rm.inputs.length, 2);
    assert.ok(compareLogits(base, (await runOnnx(exp.bytes, feeds, 1)).logits).maxAbsDiff <= 1e-6);
  }
  for (const opset of [16, 22, 17.5]) assert.throws(() => exportOnnx(traced, { opset }), /opset .* is not supported; use 17 to 21/);
});

test("export: weights past ONNX's 2 GB protobuf limit are refused before anything is encoded", () => {
  // A [65M, 8] table = 2.08 GB of float32; its buffer is empty: the check reads shapes only.
  const huge: ParamSpec = { name: "huge", shape: [65_000_000, H], data: new Float32Array(0), requiresGrad: false, noDecay: false };
  const traced = tinyEncoder(1, huge);
  assert.throws(() => exportOnnx(traced), (e: unknown) => e instanceof WhetError &&
    /2\.08 GB of weights exceed ONNX's 2 GB protobuf limit .*external data files are not supported yet/.test(e.message));
});

test("export: compareLogits centres rows, so a shift of all logits is no disagreement", () => {
  const a = { dtype: "float32" as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 0, 0, 1]) };
  const b = { dtype: "float32" as const, shape: [2, 3], data: Float32Array.from([11, 12, 13, 5, 5, 6]) };
  const c = compareLogits(a, b);
  assert.equal(c.maxAbsDiff, 10);
  assert.equal(c.argmaxAgreement, 1);
  assert.ok(Math.abs(c.cosine - 1) < 1e-12);
  assert.throws(() => compareLogits(a, { ...b, shape: [3, 2] }), /shapes differ, expected \[2, 3\], got \[3, 2\]/);
});
