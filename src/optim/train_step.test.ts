import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { NonFiniteError } from "../core/errors.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";
import { sumTo } from "../ops/broadcast.js";
import { add, div, mul, sub, tanh } from "../ops/elementwise.js";
import { matmul } from "../ops/matmul.js";
import { TrainStep } from "./train_step.js";

interface Fixture {
  init: Record<string, number[]>;
  batches: { x: number[]; y: number[]; lr: number }[];
  steps: { loss: number; grad_norm: number }[];
  final: Record<string, number[]>;
}
const fixture: Fixture = JSON.parse(readFileSync(new URL("../../fixtures/train_step/adamw_torch.json", import.meta.url), "utf8"));

// The optimizer sits beside nn, not above it: the test model is written with raw parameters.
const param = (name: string, shape: number[], noDecay: boolean): ParamSpec => ({
  name, shape, noDecay, requiresGrad: true, data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => Math.sin(i + name.length) * 0.3),
});

class Mlp {
  l1 = { weight: param("l1.weight", [3, 4], false), bias: param("l1.bias", [3], true) };
  l2 = { weight: param("l2.weight", [2, 3], false), bias: param("l2.bias", [2], true) };
  namedParameters(): [string, ParamSpec][] {
    return [this.l1.weight, this.l1.bias, this.l2.weight, this.l2.bias].map((p) => [p.name, p]);
  }
  parameters(): ParamSpec[] {
    return this.namedParameters().map(([, p]) => p);
  }
  forward(x: Tensor): Tensor {
    const g = x.graph;
    const linear = (l: { weight: ParamSpec; bias: ParamSpec }, h: Tensor) => add(matmul(h, g.param(l.weight), false, true), g.param(l.bias));
    return linear(this.l2, tanh(linear(this.l1, x)));
  }
}

/** Mean squared error over `count` values (batch shapes are symbolic, so the count is given). */
function mseLoss(a: Tensor, b: Tensor, count = 10): Tensor {
  const d = sub(a, b);
  return div(sumTo(mul(d, d), []), count);
}

async function compileMlp(model: Mlp, maxGradNorm = 0.5, count = 10) {
  return TrainStep.compile({
    inputs: [{ name: "x", shape: ["batch", 4], dtype: "float32" }, { name: "y", shape: ["batch", 2], dtype: "float32" }],
    forward: ({ x, y }) => ({ loss: mseLoss(model.forward(x), y, count) }),
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
  model.l1.weight.requiresGrad = false;
  model.l1.bias.requiresGrad = false;
  const before = Float32Array.from(model.l1.weight.data);
  const step = await compileMlp(model);
  try {
    assert.ok(!step.m.has("l1.weight"));
    // Nothing below the lowest trainable parameter: two forward products and dW2, no dH or dW1.
    assert.equal(step.graph.nodes.filter((n) => n.op.name === "MatMul").length, 3);
    assert.equal(step.graph.nodes.filter((n) => n.op.name === "Tanh").length, 1);
    await step.step({ x: { dtype: "float32", shape: [3, 4], data: new Float32Array(12).fill(0.5) }, y: { dtype: "float32", shape: [3, 2], data: new Float32Array(6) } }, 1e-2);
    assert.deepEqual(model.l1.weight.data, before);
  } finally {
    await step.release();
  }
});

test("TrainStep: a NaN loss is reported with its step and leaves the parameters untouched", async () => {
  const model = new Mlp();
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

test("TrainStep: accumulating two weighted halves equals one step on the whole batch", async () => {
  const x = Float32Array.from(fixture.batches[0].x.concat(fixture.batches[1].x));
  const y = Float32Array.from(fixture.batches[0].y.concat(fixture.batches[1].y));
  const whole = new Mlp(), parts = new Mlp();
  const fused = await compileMlp(whole, 0.5, 20);
  const acc = await TrainStep.compile({
    inputs: [{ name: "x", shape: ["batch", 4], dtype: "float32" }, { name: "y", shape: ["batch", 2], dtype: "float32" }],
    forward: ({ x, y }) => ({ loss: mseLoss(parts.forward(x), y) }),
    params: parts.parameters(),
    weightDecay: 0.01,
    maxGradNorm: 0.5,
    threads: 1,
    accumulation: true,
  });
  try {
    const r = await fused.step({ x: { dtype: "float32", shape: [10, 4], data: x }, y: { dtype: "float32", shape: [10, 2], data: y } }, 1e-2);
    // Each half's loss is a mean over its own 10 values, so each weighs 1/2 of the 20-value mean.
    const a = await acc.accumulate({ x: { dtype: "float32", shape: [5, 4], data: x.subarray(0, 20) }, y: { dtype: "float32", shape: [5, 2], data: y.subarray(0, 10) } }, 0.5);
    const b = await acc.accumulate({ x: { dtype: "float32", shape: [5, 4], data: x.subarray(20) }, y: { dtype: "float32", shape: [5, 2], data: y.subarray(10) } }, 0.5);
    const { gradNorm } = await acc.applyStep(1e-2);
    assert.ok(Math.abs((a.loss + b.loss) / 2 - r.loss) < 1e-6);
    assert.ok(Math.abs(gradNorm - r.gradNorm) < 1e-6 * r.gradNorm, `grad norm ${gradNorm} vs ${r.gradNorm}`);
    for (const [[name, p], [, q]] of whole.namedParameters().map((e, i) => [e, parts.namedParameters()[i]] as const)) {
      p.data.forEach((v, i) => assert.ok(Math.abs(v - q.data[i]) < 1e-6, `${name}[${i}]: ${q.data[i]} vs ${v}`));
    }
    assert.ok([...acc.acc.values()].every((a) => a.every((v) => v === 0)), "accumulators are cleared after the step");
    await assert.rejects(acc.applyStep(1e-2), /without any accumulate/);
  } finally {
    await fused.release();
    await acc.release();
  }
});
