import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { NonFiniteError } from "../core/errors.js";
import type { Tensor } from "../graph/tensor.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { sumTo } from "../ops/broadcast.js";
import { div, mul, sub, tanh } from "../ops/elementwise.js";
import { TrainStep } from "./train_step.js";

interface Fixture {
  init: Record<string, number[]>;
  batches: { x: number[]; y: number[]; lr: number }[];
  steps: { loss: number; grad_norm: number }[];
  final: Record<string, number[]>;
}
const fixture: Fixture = JSON.parse(readFileSync(new URL("../../fixtures/train_step/adamw_torch.json", import.meta.url), "utf8"));

class Mlp extends Module {
  l1 = this.add("l1", new Linear(4, 3));
  l2 = this.add("l2", new Linear(3, 2));
  forward(x: Tensor): Tensor {
    return this.l2.forward(tanh(this.l1.forward(x)));
  }
}

function mseLoss(a: Tensor, b: Tensor): Tensor {
  const d = sub(a, b);
  return div(sumTo(mul(d, d), []), 10); // mean over [5, 2]
}

async function compileMlp(model: Mlp, maxGradNorm = 0.5) {
  return TrainStep.compile({
    inputs: [{ name: "x", shape: ["batch", 4], dtype: "float32" }, { name: "y", shape: ["batch", 2], dtype: "float32" }],
    forward: ({ x, y }) => ({ loss: mseLoss(model.forward(x), y) }),
    params: model.parameters(),
    weightDecay: 0.01,
    maxGradNorm,
    threads: 1,
  });
}

test("TrainStep reproduces three torch AdamW steps (clipping, decay groups, changing lr)", async () => {
  const model = new Mlp();
  for (const [name, p] of model.namedParameters()) p.data = Float32Array.from(fixture.init[name]);
  const step = await compileMlp(model);
  try {
    for (const [i, b] of fixture.batches.entries()) {
      const r = await step.step({ x: { dtype: "float32", shape: [5, 4], data: Float32Array.from(b.x) }, y: { dtype: "float32", shape: [5, 2], data: Float32Array.from(b.y) } }, b.lr);
      assert.ok(Math.abs(r.loss - fixture.steps[i].loss) <= 1e-6 * Math.abs(fixture.steps[i].loss), `step ${i} loss ${r.loss} vs torch ${fixture.steps[i].loss}`);
      assert.ok(Math.abs(r.gradNorm - fixture.steps[i].grad_norm) <= 1e-5 * fixture.steps[i].grad_norm, `step ${i} grad norm ${r.gradNorm} vs torch ${fixture.steps[i].grad_norm}`);
    }
    for (const [name, p] of model.namedParameters()) {
      fixture.final[name].forEach((v, j) => assert.ok(Math.abs(p.data[j] - v) <= 1e-6, `${name}[${j}] ${p.data[j]} vs torch ${v}`));
    }
    assert.equal(step.t, 3);
  } finally {
    await step.release();
  }
});

test("TrainStep: a frozen parameter is neither updated nor given moments", async () => {
  const model = new Mlp();
  model.initWeights(3);
  model.l1.weight.requiresGrad = false;
  model.l1.bias!.requiresGrad = false;
  const before = Float32Array.from(model.l1.weight.data);
  const step = await compileMlp(model);
  try {
    assert.ok(!step.m.has("l1.weight"));
    // No backward node reads the frozen layer's input: nothing below the lowest trainable parameter.
    const backward = step.graph.nodes.filter((n) => n.scope.includes("grad(") && n.scope.includes("l1"));
    assert.equal(backward.length, 0);
    await step.step({ x: { dtype: "float32", shape: [3, 4], data: new Float32Array(12).fill(0.5) }, y: { dtype: "float32", shape: [3, 2], data: new Float32Array(6) } }, 1e-2);
    assert.deepEqual(model.l1.weight.data, before);
  } finally {
    await step.release();
  }
});

test("TrainStep: a NaN loss is reported with its step and leaves the parameters untouched", async () => {
  const model = new Mlp();
  model.initWeights(4);
  const step = await compileMlp(model);
  try {
    const ok = { x: { dtype: "float32" as const, shape: [2, 4], data: new Float32Array(8).fill(0.1) }, y: { dtype: "float32" as const, shape: [2, 2], data: new Float32Array(4) } };
    await step.step(ok, 1e-3);
    const snapshot = Float32Array.from(model.l2.weight.data);
    const bad = { ...ok, y: { dtype: "float32" as const, shape: [2, 2], data: Float32Array.of(NaN, 0, 0, 0) } };
    await assert.rejects(step.step(bad, 1e-3), (e: unknown) => e instanceof NonFiniteError && /training step 2/.test(e.message));
    assert.deepEqual(model.l2.weight.data, snapshot);
    assert.equal(step.t, 1);
  } finally {
    await step.release();
  }
});
