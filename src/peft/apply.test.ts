// LoRA / IA3 options on a small module tree named like BERT (peft/ works without the model classes).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NDArray } from "../core/ndarray.js";
import { Graph, trace } from "../graph/graph.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { ModuleList } from "../nn/module_list.js";
import { evaluate } from "../runtime/reference.js";
import { applyAdapter } from "./apply.js";
import { adapterStateDict } from "./adapter_files.js";
import { parsePeftConfig, type PeftSettings } from "./config.js";
import { LoraHook } from "./lora.js";
import { mergeAdapter } from "./merge.js";

class Block extends Module {
  readonly query = this.add("query", new Linear(4, 4));
  readonly value = this.add("value", new Linear(4, 4));
  readonly dense = this.add("dense", new Linear(4, 4));
}

class Tiny extends Module {
  readonly config = { model_type: "bert" };
  readonly layer = this.add("layer", new ModuleList([new Block(), new Block()]));
  readonly classifier = this.add("classifier", new Linear(4, 2));

  constructor() {
    super();
    this.initWeights(3);
  }

  forward(x: ReturnType<Graph["input"]>) {
    const h = this.layer.items.reduce((t, b) => b.dense.forward(b.value.forward(b.query.forward(t))), x);
    return this.classifier.forward(h);
  }
}

// encoder.layer-like paths: "layer.0.query" etc. PEFT's layer pattern needs a "." before "layer".
class Root extends Module {
  readonly config = { model_type: "bert" };
  readonly enc = this.add("enc", new Tiny());
}

const lora = (o: Record<string, unknown>): PeftSettings => parsePeftConfig({ peft_type: "LORA", task_type: "SEQ_CLS", ...o });

test("apply: targets on '.' boundaries, the classifier saved, the rest frozen", () => {
  const m = new Root();
  const a = applyAdapter(m, lora({ r: 2, lora_alpha: 4, target_modules: ["query", "dense"] }), 1);
  assert.deepEqual(a.wrapped.map((w) => w.path), ["enc.layer.0.query", "enc.layer.0.dense", "enc.layer.1.query", "enc.layer.1.dense"]);
  assert.ok(a.tensors.has("base_model.model.enc.layer.0.query.lora_A.weight"));
  assert.ok(a.tensors.has("base_model.model.enc.classifier.weight"));
  for (const [n, p] of m.namedParameters()) assert.equal(p.requiresGrad, [...a.tensors.values()].includes(p), n);
  // PEFT's init: B = 0, A ~ U(-1/√in, 1/√in)
  const hook = a.wrapped[0].hook as LoraHook;
  assert.ok(hook.B.weight.data.every((v) => v === 0));
  assert.ok(hook.A.weight.data.every((v) => Math.abs(v) <= 0.5) && hook.A.weight.data.some((v) => v !== 0));
  assert.equal(hook.scaling, 2);
});

test("apply: regex targets, layers_to_transform, rank/alpha patterns, rsLoRA, gaussian init, bias", () => {
  const m = new Root();
  const a = applyAdapter(m, lora({
    r: 4, lora_alpha: 8, target_modules: ".*\\.(query|value)", layers_to_transform: [1], rank_pattern: { value: 2 }, alpha_pattern: { "layer\\.1\\.query": 2 },
    use_rslora: true, init_lora_weights: "gaussian", bias: "all",
  }), 1);
  assert.deepEqual(a.wrapped.map((w) => w.path), ["enc.layer.1.query", "enc.layer.1.value"]);
  const [q, v] = a.wrapped.map((w) => w.hook as LoraHook);
  assert.deepEqual(q.A.weight.shape, [4, 4]);
  assert.deepEqual(v.A.weight.shape, [2, 4]);
  assert.equal(q.scaling, 2 / Math.sqrt(4));
  assert.equal(v.scaling, 8 / Math.sqrt(2));
  assert.ok(q.B.weight.data.every((x) => x === 0));
  assert.ok(a.tensors.has("base_model.model.enc.layer.1.query.base_layer.bias"), "a wrapped layer's bias sits under base_layer");
  assert.ok(a.tensors.has("base_model.model.enc.layer.0.dense.bias"), "bias all: every bias trains");
  const only = applyAdapter(new Root(), lora({ r: 2, target_modules: ["value"], bias: "lora_only" }), 1);
  assert.deepEqual([...only.tensors.keys()].filter((k) => k.endsWith("bias")).sort(),
    ["base_model.model.enc.classifier.bias", "base_model.model.enc.layer.0.value.base_layer.bias", "base_model.model.enc.layer.1.value.base_layer.bias"]);
});

test("apply: mistakes name the modules", () => {
  assert.throws(() => applyAdapter(new Root(), lora({ target_modules: ["querry"] }), 1), /matched no module of this model; its Linear modules are: enc\.layer\.\*\.query, enc\.layer\.\*\.value/);
  assert.throws(() => applyAdapter(new Root(), lora({ target_modules: ["layer"] }), 1), /target module "enc\.layer" is a ModuleList; whet wraps only Linear layers/);
  const ds = new Root() as unknown as { config: { model_type: string } };
  ds.config.model_type = "distilbert";
  assert.throws(() => applyAdapter(ds as unknown as Root, lora({}), 1), /target_modules is required for model_type "distilbert"/);
  const notes = applyAdapter(new Root(), lora({ target_modules: ["query", "q_lin"] }), 1).notes;
  assert.deepEqual(notes, ['target_modules entry "q_lin" matched no module']);
});

test("apply: merging LoRA and IA3 gives the adapted outputs with plain Linear layers", () => {
  for (const s of [lora({ r: 2, lora_alpha: 6, target_modules: ["query", "value", "dense"], init_lora_weights: false }),
    parsePeftConfig({ peft_type: "IA3", target_modules: ["query", "dense"], feedforward_modules: ["dense"], init_ia3_weights: false })]) {
    const m = new Root();
    const a = applyAdapter(m, s, 5);
    const run = () => {
      const g = new Graph();
      const out = trace(g, () => m.enc.forward(g.input("x", [3, 4], "float32")));
      const feeds: Record<string, NDArray> = { x: { dtype: "float32", shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)) } };
      for (const [k, p] of m.namedParameters()) feeds[k] = { dtype: "float32", shape: [...p.shape], data: p.data };
      return Array.from(evaluate(g, [out], feeds)[0].data as ArrayLike<number>);
    };
    const before = run();
    assert.equal(adapterStateDict(a).size, a.tensors.size);
    mergeAdapter(m, a);
    assert.ok(m.namedParameters().every(([k]) => !/lora_|ia3_l/.test(k)));
    run().forEach((v, i) => assert.ok(Math.abs(v - before[i]) < 1e-5, `${s.peft_type} output ${i}: ${v} vs ${before[i]}`));
  }
});
