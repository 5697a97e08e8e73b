import assert from "node:assert/strict";
import { test } from "node:test";
import { ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { evaluate } from "../runtime/reference.js";
import { add, mul } from "./elementwise.js";
import { layerNorm } from "./layernorm.js";
import { sum } from "./reduce.js";

const cases: Record<string, CheckCase> = {
  "symbolic batch": {
    inputs: [{ shape: [2, 3, 4], dims: ["b", "t", 4] }, { shape: [4] }, { shape: [4] }],
    build: (x, w, b) => layerNorm(x, w, b, 1e-5),
  },
  "rank 1": { inputs: [{ shape: [5] }, { shape: [5] }, { shape: [5] }], build: (x, w, b) => layerNorm(x, w, b) },
  "input grad only": {
    inputs: [{ shape: [3, 6], dims: ["n", 6] }, { shape: [6], grad: false }, { shape: [6], grad: false }],
    build: (x, w, b) => layerNorm(x, w, b, 1e-12),
  },
  "weight grad only": {
    inputs: [{ shape: [2, 2, 3], grad: false }, { shape: [3] }, { shape: [3], grad: false }],
    build: (x, w, b) => layerNorm(x, w, b),
  },
  "after broadcast add, used twice": {
    inputs: [{ shape: [2, 3, 4], dims: ["b", 3, 4] }, { shape: [3, 4] }, { shape: [4] }, { shape: [4] }],
    build: (x, p, w, b) => {
      const y = layerNorm(add(x, p), w, b);
      return [y, layerNorm(y, w, b)];
    },
  },
  // A symbolic hidden size keeps the ReduceMean form of mean(g·x̂) (the column product needs H).
  "symbolic hidden size": {
    inputs: [{ shape: [3, 4], dims: ["n", "h"] }, { shape: [4], dims: ["h"] }, { shape: [4], dims: ["h"] }],
    build: (x, w, b) => layerNorm(x, w, b),
  },
  "offset rows": {
    inputs: [{ shape: [2, 8], values: Array.from({ length: 16 }, (_, i) => 50 + Math.sin(i)) }, { shape: [8] }, { shape: [8] }],
    build: (x, w, b) => layerNorm(x, w, b),
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`layerNorm ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`layerNorm ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

test("layerNorm: values and gradients match torch.nn.functional.layer_norm", () => {
  // Made with torch 2.x in float64: y = layer_norm(x, (4,), w, b, 1e-5); y.backward(dy).
  const g = new Graph();
  const x = g.input("x", [2, 4], "float64"), w = g.input("w", [4], "float64"), b = g.input("b", [4], "float64");
  const dy = g.input("dy", [2, 4], "float64");
  const outs = trace(g, () => {
    const y = layerNorm(x, w, b, 1e-5);
    return [y, ...(gradients(sum(mul(y, dy)), [x, w, b]) as never[])];
  });
  const feeds = {
    x: ndarray("float64", [2, 4], [0.5, -1.25, 2.0, 0.75, 3.0, 3.5, -0.5, 1.0]),
    w: ndarray("float64", [4], [1.5, -0.5, 2.0, 1.0]),
    b: ndarray("float64", [4], [0.1, 0.2, -0.3, 0.0]),
    dy: ndarray("float64", [2, 4], [1.0, 2.0, -1.0, 0.5, 0.25, -0.75, 1.5, -2.0]),
  };
  const want = [
    [0.1, 0.954826603772164, 2.2879769272188484, 0.215664743934904, 1.2713009287015486, -0.34660710006072265, -3.1111222288837164, -0.4685203714806194],
    [1.509653207544328, -0.9629658075487753, -1.2388204283351312, 0.6921330283395781, 0.2752068780435646, 0.400906974977011, 1.0351274996916073, -1.7112413527121828],
    [0.1952168214502581, -3.8392170651797404, -3.4023301352722113, 1.044873114928691],
    [1.25, 1.25, 0.5, -1.5],
  ];
  evaluate(g, outs, feeds).forEach((v, i) => v.data.forEach((d, j) => assert.ok(Math.abs(d - want[i][j]) < 1e-12, `output ${i}[${j}]: ${d} vs ${want[i][j]}`)));
});

test("layerNorm: a weight that does not fit is a ShapeError naming both shapes", () => {
  const g = new Graph();
  const x = g.input("x", ["b", 4], "float32");
  const w5 = g.input("w5", [5], "float32"), w4 = g.input("w4", [4], "float32");
  trace(g, () => {
    assert.throws(() => layerNorm(x, w5, w4), (e: Error) => e instanceof ShapeError && /\[5\].*\[b, 4\]/.test(e.message));
    assert.throws(() => layerNorm(x, w4, w5), (e: Error) => e instanceof ShapeError && /bias \[5\].*\[b, 4\]/.test(e.message));
  });
});
