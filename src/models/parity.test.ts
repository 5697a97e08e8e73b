// Parity with the reference fixtures made by the real transformers 4.30 code
// (fixtures/hf/*, copied from ../shared/fixtures; see fixtures/README.hf-fixtures.md).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { NDArray } from "../core/ndarray.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import { readConfig } from "../io/config.js";
import { TrainStep } from "../optim/train_step.js";
import { CompiledGraph } from "../runtime/session.js";
import { createModel, familyOf, type TaskModel } from "./auto.js";
import { traceForward } from "./forward.js";
import { loadPretrainedWeights } from "./pretrained.js";

const root = fileURLToPath(new URL("../../fixtures/hf/", import.meta.url));
const NAMES = ["bert-seq", "bert-tok", "bert-mlm", "roberta-seq", "distilbert-seq"];

interface Summary { shape?: number[]; sum: number; abs_sum: number; first: number[] }
interface Expected {
  inputs: Record<string, number[][]>;
  labels: number[] | number[][];
  logits?: number[][] | number[][][];
  logits_summary: Summary;
  loss: number;
  last_hidden_state_summary: Summary;
  grads: Record<string, { norm: number; is_none: boolean }>;
  grad_total_norm: number;
  params_after_adamw_step: Record<string, Summary & { delta_abs_sum: number }>;
}

/** numpy.allclose's rule: |got - want| <= atol + rtol·|want|. */
function close(got: number, want: number, rtol: number, what: string, atol = 1e-6): void {
  assert.ok(Math.abs(got - want) <= atol + rtol * Math.abs(want), `${what}: got ${got}, expected ${want}`);
}

function int64(rows: number[][]): NDArray {
  return { dtype: "int64", shape: [rows.length, rows[0].length], data: BigInt64Array.from(rows.flat().map(BigInt)) };
}

function batchOf(e: Expected, withTypes: boolean): Record<string, NDArray> {
  const b: Record<string, NDArray> = { input_ids: int64(e.inputs.input_ids), attention_mask: int64(e.inputs.attention_mask) };
  if (withTypes) b.token_type_ids = e.inputs.token_type_ids ? int64(e.inputs.token_type_ids) : { ...int64(e.inputs.input_ids), data: new BigInt64Array(e.inputs.input_ids.flat().length) };
  const labels = e.labels;
  b.labels = Array.isArray(labels[0]) ? int64(labels as number[][]) : { dtype: "int64", shape: [labels.length], data: BigInt64Array.from((labels as number[]).map(BigInt)) };
  return b;
}

function stats(a: ArrayLike<number>): { sum: number; abs: number; sq: number } {
  let sum = 0, abs = 0, sq = 0;
  for (let i = 0; i < a.length; i++) {
    sum += a[i];
    abs += Math.abs(a[i]);
    sq += a[i] * a[i];
  }
  return { sum, abs, sq };
}

async function load(name: string): Promise<{ model: TaskModel; e: Expected; types: boolean; tokenTask: boolean }> {
  const dir = root + name;
  const config = readConfig(dir);
  const model = createModel(config);
  await loadPretrainedWeights(model, dir);
  const e: Expected = JSON.parse(readFileSync(`${dir}/expected.json`, "utf8"));
  return { model, e, types: familyOf(config).tokenTypes, tokenTask: Array.isArray(e.labels[0]) };
}

for (const name of NAMES) {
  test(`${name}: logits, hidden states and loss match transformers`, async () => {
    const { model, e, types, tokenTask } = await load(name);
    const { graph, outputs } = traceForward(model, { tokenTypes: types, labels: "int64", labelShape: tokenTask ? ["batch", "seq"] : ["batch"], outputs: ["logits", "last_hidden_state", "loss"] });
    const run = await CompiledGraph.compile(graph, outputs, { threads: 1 });
    const feeds = batchOf(e, types);
    for (const [k, p] of model.namedParameters()) feeds[k] = { dtype: "float32", shape: [...p.shape], data: p.data };
    const out = await run.run(feeds);
    await run.release();
    const logits = out.logits.data as Float32Array;
    if (e.logits) e.logits.flat(2).forEach((v, i) => close(logits[i], v as number, 1e-4, `logits[${i}]`, 1e-5));
    const ls = stats(logits);
    close(ls.sum, e.logits_summary.sum, 1e-4, "logits sum");
    close(ls.abs, e.logits_summary.abs_sum, 1e-4, "logits |sum|");
    const h = out.last_hidden_state.data as Float32Array;
    assert.deepEqual(out.last_hidden_state.shape, e.last_hidden_state_summary.shape);
    e.last_hidden_state_summary.first.forEach((v, i) => close(h[i], v, 1e-4, `last_hidden_state[${i}]`));
    close(stats(h).abs, e.last_hidden_state_summary.abs_sum, 1e-4, "last_hidden_state |sum|");
    close(Number(out.loss.data[0]), e.loss, 1e-5, "loss");
  });

  test(`${name}: every parameter's gradient norm matches transformers`, async () => {
    const { model, e, types, tokenTask } = await load(name);
    const { graph, outputs } = traceForward(model, { tokenTypes: types, labels: "int64", labelShape: tokenTask ? ["batch", "seq"] : ["batch"], outputs: ["loss"] });
    const named = model.namedParameters();
    const grads = trace(graph, () => gradients(outputs.loss, named.map(([, p]) => graph.param(p))));
    const targets: Record<string, NonNullable<(typeof grads)[number]>> = {};
    named.forEach(([k], i) => grads[i] && (targets[`grad.${k}`] = grads[i]!));
    const run = await CompiledGraph.compile(graph, targets, { threads: 1 });
    const feeds = batchOf(e, types);
    for (const [k, p] of named) feeds[k] = { dtype: "float32", shape: [...p.shape], data: p.data };
    const out = await run.run(feeds);
    await run.release();
    let total = 0;
    for (const [k] of named) {
      const want = e.grads[k];
      assert.ok(want, `the fixture has no gradient for ${k}`);
      const g = out[`grad.${k}`];
      const norm = g ? Math.sqrt(stats(g.data as Float32Array).sq) : 0;
      total += norm * norm;
      close(norm, want.norm, 1e-4, `‖∂loss/∂${k}‖`);
    }
    close(Math.sqrt(total), e.grad_total_norm, 1e-4, "total gradient norm");
  });

  test(`${name}: one AdamW step matches torch.optim.AdamW with Trainer's grouping`, async () => {
    const { model, e, types, tokenTask } = await load(name);
    const before = new Map(model.namedParameters().map(([k, p]) => [k, Float32Array.from(p.data)]));
    const inputs = [
      { name: "input_ids", shape: ["batch", "seq"], dtype: "int64" as const },
      { name: "attention_mask", shape: ["batch", "seq"], dtype: "int64" as const },
      ...(types ? [{ name: "token_type_ids", shape: ["batch", "seq"], dtype: "int64" as const }] : []),
      { name: "labels", shape: tokenTask ? ["batch", "seq"] : ["batch"], dtype: "int64" as const },
    ];
    const step = await TrainStep.compile({
      inputs,
      forward: (x) => ({ loss: model.forward({ input_ids: x.input_ids, attention_mask: x.attention_mask, token_type_ids: x.token_type_ids, labels: x.labels }).loss! }),
      params: model.parameters(),
      weightDecay: 0.01,
      maxGradNorm: null,
      dropout: false,
      threads: 1,
    });
    await step.step(batchOf(e, types), 1e-3);
    await step.release();
    for (const [k, p] of model.namedParameters()) {
      const want = e.params_after_adamw_step[k];
      // The key bias cannot move the loss (softmax ignores a per-row constant): its gradient is
      // float32 rounding noise (~1e-9), and AdamW's first step, lr·g/(|g|+eps), turns noise into
      // a ±lr update in torch and whet alike. Only its size can be compared.
      if (e.grads[k].norm < 1e-6) {
        const prev = before.get(k)!;
        for (let i = 0; i < prev.length; i++) assert.ok(Math.abs(p.data[i] - prev[i]) <= 1e-3 * (1 + 1e-6) + 1e-5 * Math.abs(prev[i]), `${k}[${i}] moved more than lr`);
        continue;
      }
      want.first.forEach((v, i) => assert.ok(Math.abs(p.data[i] - v) <= 2e-6, `${k}[${i}] after the step: ${p.data[i]} vs ${v}`));
      const prev = before.get(k)!;
      let delta = 0;
      for (let i = 0; i < prev.length; i++) delta += Math.abs(p.data[i] - prev[i]);
      close(delta, want.delta_abs_sum, 2e-3, `Σ|Δ${k}|`);
    }
  });
}

// Masked-LM training feeds only the labelled positions (collate's "masked_token"): the head then
// projects those rows alone. Same loss and the same gradient for every parameter as the full head.
test("bert-mlm: logits at the masked positions only give transformers' loss and gradients", async () => {
  const { model, e, types } = await load("bert-mlm");
  const labels = (e.labels as number[][]).flat();
  const positions = labels.flatMap((v, i) => (v === -100 ? [] : [i]));
  assert.ok(positions.length > 0 && positions.length < labels.length, "the fixture masks some tokens, not all");
  const g = new Graph();
  const named = model.namedParameters();
  const targets = trace(g, () => {
    const out = model.forward({
      input_ids: g.input("input_ids", ["batch", "seq"], "int64"), attention_mask: g.input("attention_mask", ["batch", "seq"], "int64"),
      token_type_ids: types ? g.input("token_type_ids", ["batch", "seq"], "int64") : undefined,
      masked_positions: g.input("masked_positions", ["masked"], "int64"), labels: g.input("labels", ["masked"], "int64"),
    });
    const grads = gradients(out.loss!, named.map(([, p]) => g.param(p)));
    const t: Record<string, Tensor> = { loss: out.loss!, logits: out.logits };
    named.forEach(([k], i) => grads[i] && (t[`grad.${k}`] = grads[i]!));
    return t;
  });
  const run = await CompiledGraph.compile(g, targets, { threads: 1 });
  const feeds = batchOf(e, types);
  feeds.masked_positions = { dtype: "int64", shape: [positions.length], data: BigInt64Array.from(positions.map(BigInt)) };
  feeds.labels = { dtype: "int64", shape: [positions.length], data: BigInt64Array.from(positions.map((i) => BigInt(labels[i]))) };
  for (const [k, p] of named) feeds[k] = { dtype: "float32", shape: [...p.shape], data: p.data };
  const out = await run.run(feeds);
  await run.release();
  assert.deepEqual(out.logits.shape, [positions.length, Number(model.config.vocab_size)]);
  close(Number(out.loss.data[0]), e.loss, 1e-5, "loss");
  for (const [k] of named) {
    const gk = out[`grad.${k}`];
    close(gk ? Math.sqrt(stats(gk.data as Float32Array).sq) : 0, e.grads[k].norm, 1e-4, `‖∂loss/∂${k}‖`);
  }
});
