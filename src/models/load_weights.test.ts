import assert from "node:assert/strict";
import { test } from "node:test";
import type { PretrainedConfig } from "../io/config.js";
import { createModel } from "./auto.js";
import { loadWeights, type WeightSource } from "./load_weights.js";

const CONFIG = {
  model_type: "bert", vocab_size: 30, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12,
  max_position_embeddings: 16, type_vocab_size: 2, id2label: { 0: "a", 1: "b" },
} as unknown as PretrainedConfig;

/** A checkpoint made from a model's own parameters, with edits. */
function source(entries: [string, number[], Float32Array][]): WeightSource {
  const m = new Map(entries.map(([k, s, d]) => [k, { s, d }]));
  return { keys: () => m.keys(), shape: (k) => m.get(k)!.s, float32: (k) => m.get(k)!.d };
}

function checkpointOf(labels: number, rename: (k: string) => string = (k) => k): [string, number[], Float32Array][] {
  const m = createModel({ ...CONFIG, id2label: Object.fromEntries(Array.from({ length: labels }, (_, i) => [String(i), `l${i}`])) }, "sequence-classification", 3);
  return m.namedParameters().map(([k, p]) => [rename(k), [...p.shape], Float32Array.from(p.data)]);
}

test("load: a full checkpoint loads every parameter; extra buffers are reported unused", () => {
  const model = createModel(CONFIG, "sequence-classification", 1);
  const ck = checkpointOf(2);
  ck.push(["bert.embeddings.position_ids", [1, 16], new Float32Array(16)]);
  const r = loadWeights(model, "bert", source(ck), "ck");
  assert.deepEqual(r.initialized, []);
  assert.deepEqual(r.unused, ["bert.embeddings.position_ids"]);
  model.namedParameters().forEach(([k, p], i) => assert.deepEqual(p.data, ck[i][2], k));
});

test("load: a base-model checkpoint (no bert. prefix) loads the encoder and draws a fresh head", () => {
  const model = createModel(CONFIG, "sequence-classification", 1);
  const ck = checkpointOf(2).filter(([k]) => k.startsWith("bert.")).map(([k, s, d]) => [k.slice(5), s, d] as [string, number[], Float32Array]);
  const r = loadWeights(model, "bert", source(ck), "base");
  assert.deepEqual(r.initialized, ["classifier.weight", "classifier.bias"]);
});

test("load: a head shaped for another label count is re-initialised and reported", () => {
  const model = createModel(CONFIG, "sequence-classification", 1);
  const before = Float32Array.from(model.namedParameters().find(([k]) => k === "classifier.weight")![1].data);
  const r = loadWeights(model, "bert", source(checkpointOf(5)), "five-labels");
  assert.deepEqual(r.initialized, ["classifier.weight", "classifier.bias"]);
  assert.deepEqual(model.namedParameters().find(([k]) => k === "classifier.weight")![1].data, before);
});

test("load: a missing or mis-shaped encoder weight is an error naming the key and both shapes", () => {
  const model = createModel(CONFIG, "sequence-classification", 1);
  const missing = checkpointOf(2).filter(([k]) => k !== "bert.encoder.layer.0.output.dense.bias");
  assert.throws(() => loadWeights(model, "bert", source(missing), "ck.safetensors"), /loading ck\.safetensors: the checkpoint has no "bert\.encoder\.layer\.0\.output\.dense\.bias" \(expected shape \[8\]\)/);
  const bad = checkpointOf(2).map(([k, s, d]) => (k === "bert.encoder.layer.0.attention.output.dense.weight" ? [k, [8, 4], d.subarray(0, 32)] : [k, s, d]) as [string, number[], Float32Array]);
  assert.throws(() => loadWeights(model, "bert", source(bad), "ck.safetensors"), /cannot load "bert\.encoder\.layer\.0\.attention\.output\.dense\.weight": expected \[8, 8\], got \[8, 4\]/i);
});

test("load: legacy gamma/beta LayerNorm names are accepted", () => {
  const model = createModel(CONFIG, "sequence-classification", 1);
  const ck = checkpointOf(2, (k) => k.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta"));
  assert.deepEqual(loadWeights(model, "bert", source(ck), "legacy").initialized, []);
});

test("load: a masked-LM checkpoint (no pooler) becomes a classifier with a fresh pooler and head", () => {
  const model = createModel(CONFIG, "sequence-classification", 1);
  const ck = checkpointOf(2).filter(([k]) => !k.startsWith("bert.pooler.") && !k.startsWith("classifier."));
  assert.deepEqual(loadWeights(model, "bert", source(ck), "mlm").initialized, ["bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"]);
});

test("load: freshHead keeps the drawn head even where the checkpoint's fits by shape (labels that mean other classes)", () => {
  const model = createModel(CONFIG, "sequence-classification", 1);
  const before = Float32Array.from(model.namedParameters().find(([k]) => k === "classifier.weight")![1].data);
  const r = loadWeights(model, "bert", source(checkpointOf(2)), "ck", { freshHead: true });
  assert.deepEqual(r.initialized, ["classifier.weight", "classifier.bias"]);
  assert.deepEqual(r.unused, []);
  assert.deepEqual(model.namedParameters().find(([k]) => k === "classifier.weight")![1].data, before);
  assert.notDeepEqual(model.namedParameters().find(([k]) => k === "bert.pooler.dense.weight")![1].data, createModel(CONFIG, "sequence-classification", 1)
    .namedParameters().find(([k]) => k === "bert.pooler.dense.weight")![1].data, "the encoder still loads");
});
