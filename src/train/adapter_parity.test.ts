// Parity with the real PEFT 0.20 on transformers 4.30 (fixtures/peft, copied from
// ../shared/fixtures/peft; its README states every convention): logits, loss, the gradient of
// every trainable tensor, one AdamW step and the merged model.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { NDArray } from "../core/ndarray.js";
import { gradients } from "../graph/autodiff.js";
import { trace } from "../graph/graph.js";
import { readConfig } from "../io/config.js";
import { createModel, FAMILIES, type TaskModel } from "../models/auto.js";
import { traceForward } from "../models/forward.js";
import { loadPretrainedWeights } from "../models/pretrained.js";
import { TrainStep } from "../optim/train_step.js";
import type { AppliedAdapter } from "../peft/apply.js";
import { mergeAdapter } from "../peft/merge.js";
import { CompiledGraph } from "../runtime/session.js";
import { loadAdapter } from "./adapter_model.js";

const root = fileURLToPath(new URL("../../fixtures/peft/", import.meta.url));

interface Summary { shape?: number[]; sum: number; abs_sum: number; first: number[]; saved_as?: string; norm?: number; delta_abs_sum?: number }
interface Expected {
  inputs: Record<string, number[][]>;
  labels: number[];
  logits: number[][];
  loss: number;
  trainable_parameter_count: number;
  saved_tensors: Record<string, { shape: number[] }>;
  params_initial: Record<string, Summary>;
  frozen_parameter_names: string[];
  grads: Record<string, Summary>;
  grad_total_norm: number;
  params_after_adamw_step: Record<string, Summary>;
  merged?: { logits: number[][]; changed_params: Record<string, Summary> };
}

function close(got: number, want: number, rtol: number, what: string, atol = 1e-6): void {
  assert.ok(Math.abs(got - want) <= atol + rtol * Math.abs(want), `${what}: got ${got}, expected ${want}`);
}

function int64(rows: number[][]): NDArray {
  return { dtype: "int64", shape: [rows.length, rows[0].length], data: BigInt64Array.from(rows.flat().map(BigInt)) };
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

interface Loaded { model: TaskModel; adapter: AppliedAdapter; e: Expected; types: boolean; feeds: Record<string, NDArray> }

export async function loadFixture(name: string): Promise<Loaded> {
  const dir = root + name;
  const config = readConfig(`${dir}/base`);
  Object.assign(config, { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const model = createModel(config, "sequence-classification");
  await loadPretrainedWeights(model, `${dir}/base`);
  const adapter = await loadAdapter(model, `${dir}/adapter`);
  const e: Expected = JSON.parse(readFileSync(`${dir}/expected.json`, "utf8"));
  const types = FAMILIES[config.model_type].tokenTypes;
  const feeds: Record<string, NDArray> = { input_ids: int64(e.inputs.input_ids), attention_mask: int64(e.inputs.attention_mask) };
  if (types) feeds.token_type_ids = e.inputs.token_type_ids ? int64(e.inputs.token_type_ids) : { ...int64(e.inputs.input_ids), data: new BigInt64Array(e.inputs.input_ids.flat().length) };
  feeds.labels = { dtype: "int64", shape: [e.labels.length], data: BigInt64Array.from(e.labels.map(BigInt)) };
  return { model, adapter, e, types, feeds };
}

function withParams(model: TaskModel, feeds: Record<string, NDArray>): Record<string, NDArray> {
  const out = { ...feeds };
  for (const [k, p] of model.namedParameters()) out[k] = { dtype: "float32", shape: [...p.shape], data: p.data };
  return out;
}

async function logitsAndLoss(l: Loaded): Promise<{ logits: Float32Array; loss: number }> {
  const { graph, outputs } = traceForward(l.model, { tokenTypes: l.types, labels: "int64", outputs: ["logits", "loss"] });
  const run = await CompiledGraph.compile(graph, outputs, { threads: 1 });
  const out = await run.run(withParams(l.model, l.feeds));
  await run.release();
  return { logits: out.logits.data as Float32Array, loss: Number(out.loss.data[0]) };
}

/** PEFT's in-memory name (…lora_A.default.weight) -> the parameter, through the file key it is saved as. */
function paramOf(l: Loaded, peftName: string) {
  const key = l.e.params_initial[peftName]?.saved_as;
  assert.ok(key, `the fixture does not say how ${peftName} is saved`);
  const p = l.adapter.tensors.get(key);
  assert.ok(p, `whet has no adapter tensor "${key}"`);
  return p;
}

export const METHODS = ["bert-lora", "roberta-lora", "bert-ia3", "bert-prefix", "bert-prompt"];

for (const name of METHODS) {
  test(`${name}: the adapter file's tensors and the trainable set are PEFT's`, async () => {
    const l = await loadFixture(name);
    assert.deepEqual([...l.adapter.tensors.keys()].sort(), Object.keys(l.e.saved_tensors).sort());
    for (const [k, t] of Object.entries(l.e.saved_tensors)) assert.deepEqual([...l.adapter.tensors.get(k)!.shape], t.shape, k);
    const trainable = l.model.parameters().filter((p) => p.requiresGrad);
    assert.equal(trainable.reduce((s, p) => s + p.size, 0), l.e.trainable_parameter_count);
    assert.deepEqual(new Set(trainable), new Set(l.adapter.tensors.values()));
  });

  test(`${name}: logits and loss match PEFT`, async () => {
    const l = await loadFixture(name);
    const { logits, loss } = await logitsAndLoss(l);
    l.e.logits.flat().forEach((v, i) => close(logits[i], v, 1e-5, `logits[${i}]`, 3e-6)); // float32 noise of a length-32 dot product
    close(loss, l.e.loss, 1e-5, "loss", 0);
  });

  test(`${name}: every trainable tensor's gradient matches PEFT; the frozen base gets none`, async () => {
    const l = await loadFixture(name);
    const { graph, outputs } = traceForward(l.model, { tokenTypes: l.types, labels: "int64", outputs: ["loss"] });
    const trainable = l.model.parameters().filter((p) => p.requiresGrad);
    const grads = trace(graph, () => gradients(outputs.loss, trainable.map((p) => graph.param(p))));
    const targets = Object.fromEntries(trainable.map((p, i) => [`grad.${p.name}`, grads[i]!]));
    const run = await CompiledGraph.compile(graph, targets, { threads: 1 });
    const out = await run.run(withParams(l.model, l.feeds));
    await run.release();
    let total = 0;
    for (const [peftName, want] of Object.entries(l.e.grads)) {
      const g = out[`grad.${paramOf(l, peftName).name}`].data as Float32Array;
      const n = norm(g);
      total += n * n;
      close(n, want.norm!, 1e-4, `‖∂loss/∂${peftName}‖`);
      want.first.forEach((v, i) => close(g[i], v, 1e-4, `∂loss/∂${peftName}[${i}]`, 1e-6));
    }
    close(Math.sqrt(total), l.e.grad_total_norm, 1e-5, "total gradient norm");
  });

  test(`${name}: one AdamW step over the trainable tensors matches torch.optim.AdamW`, async () => {
    const l = await loadFixture(name);
    const step = await TrainStep.compile({
      inputs: [
        { name: "input_ids", shape: ["batch", "seq"], dtype: "int64" },
        { name: "attention_mask", shape: ["batch", "seq"], dtype: "int64" },
        ...(l.types ? [{ name: "token_type_ids", shape: ["batch", "seq"], dtype: "int64" as const }] : []),
        { name: "labels", shape: ["batch"], dtype: "int64" },
      ],
      forward: (x) => ({ loss: l.model.forward({ input_ids: x.input_ids, attention_mask: x.attention_mask, token_type_ids: x.token_type_ids, labels: x.labels }).loss! }),
      params: l.model.parameters(), weightDecay: 0.01, maxGradNorm: null, dropout: false, threads: 1,
    });
    assert.equal(step.trainable.length, Object.keys(l.e.grads).length, "the optimizer holds the trainable tensors only");
    const before = new Map(l.model.parameters().map((p) => [p, Float32Array.from(p.data)]));
    await step.step(l.feeds, 1e-3);
    await step.release();
    for (const [peftName, want] of Object.entries(l.e.params_after_adamw_step)) {
      const p = paramOf(l, peftName);
      want.first.forEach((v, i) => close(p.data[i], v, 0, `${peftName}[${i}] after the step`, 2e-6));
      const prev = before.get(p)!;
      let delta = 0;
      for (let i = 0; i < prev.length; i++) delta += Math.abs(p.data[i] - prev[i]);
      close(delta, want.delta_abs_sum!, 2e-3, `Σ|Δ${peftName}|`);
    }
    for (const p of l.model.parameters()) if (!p.requiresGrad) assert.deepEqual(p.data, before.get(p), `${p.name} is frozen and must not move`);
  });

  if (name.includes("prefix") || name.includes("prompt")) continue; // virtual tokens: nothing to merge
  test(`${name}: merge_and_unload gives PEFT's merged weights and logits under the base model's names`, async () => {
    const l = await loadFixture(name);
    mergeAdapter(l.model, l.adapter);
    const names = new Set(l.model.namedParameters().map(([k]) => k));
    const base = createModel(readConfig(`${root}${name}/base`), "sequence-classification");
    assert.deepEqual(names, new Set(base.namedParameters().map(([k]) => k)), "the merged model has the base model's parameters");
    const byName = new Map(l.model.namedParameters());
    for (const [k, want] of Object.entries(l.e.merged!.changed_params)) {
      const p = byName.get(k);
      assert.ok(p, `merged model lacks ${k}`);
      want.first.forEach((v, i) => close(p.data[i], v, 1e-6, `${k}[${i}]`, 1e-6));
      let abs = 0;
      for (const v of p.data) abs += Math.abs(v);
      close(abs, want.abs_sum, 1e-5, `Σ|${k}|`);
    }
    const { logits } = await logitsAndLoss(l);
    l.e.merged!.logits.flat().forEach((v, i) => close(logits[i], v, 1e-5, `merged logits[${i}]`, 1e-6));
  });
}

test("distilbert-seq: LoRA needs target_modules (PEFT has no default); pre_classifier trains as a saved module; the files round-trip", async () => {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { parsePeftConfig } = await import("../peft/config.js");
  const { saveAdapter } = await import("../peft/adapter_files.js");
  const { attachAdapter } = await import("./adapter_model.js");
  const dir = fileURLToPath(new URL("../../fixtures/hf/distilbert-seq", import.meta.url));
  const build = async () => {
    const model = createModel(readConfig(dir), "sequence-classification");
    await loadPretrainedWeights(model, dir);
    return model;
  };
  assert.throws(() => attachAdapter(createModel(readConfig(dir), "sequence-classification"), parsePeftConfig({ peft_type: "LORA", task_type: "SEQ_CLS" }), 1),
    /target_modules is required for model_type "distilbert".*distilbert\.transformer\.layer\.\*\.attention\.q_lin/);
  const model = await build();
  const s = parsePeftConfig({ peft_type: "LORA", task_type: "SEQ_CLS", r: 2, target_modules: ["q_lin", "v_lin", "lin2"], init_lora_weights: false });
  const adapter = attachAdapter(model, s, 3);
  const keys = [...adapter.tensors.keys()];
  assert.ok(keys.includes("base_model.model.pre_classifier.weight") && keys.includes("base_model.model.classifier.bias"), keys.join(", "));
  assert.ok(keys.includes("base_model.model.distilbert.transformer.layer.1.ffn.lin2.lora_B.weight"));
  const out = await mkdtemp(join(tmpdir(), "whet-distil-lora-"));
  try {
    await saveAdapter(out, adapter, dir);
    const again = await build();
    const loaded = await loadAdapter(again, out);
    for (const [k, p] of adapter.tensors) assert.deepEqual(loaded.tensors.get(k)!.data, p.data, k);
    const e = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
    const feeds: Record<string, NDArray> = { input_ids: int64(e.inputs.input_ids), attention_mask: int64(e.inputs.attention_mask) };
    const logits = async (m: TaskModel) => {
      const { graph, outputs } = traceForward(m, { tokenTypes: false });
      const run = await CompiledGraph.compile(graph, outputs, { threads: 1 });
      const o = await run.run(withParams(m, feeds));
      await run.release();
      return Array.from(o.logits.data as Float32Array);
    };
    assert.deepEqual(await logits(again), await logits(model));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
