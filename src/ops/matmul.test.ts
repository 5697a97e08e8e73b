import assert from "node:assert/strict";
import { test } from "node:test";
import { ShapeError } from "../core/errors.js";
import { Graph, trace } from "../graph/graph.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { matmul } from "./matmul.js";

const cases: Record<string, CheckCase> = {
  "2d": { inputs: [{ shape: [3, 4] }, { shape: [4, 2] }], build: (a, b) => matmul(a, b) },
  "batched x weight": { inputs: [{ shape: [2, 3, 4], dims: ["b", "t", 4] }, { shape: [4, 5] }], build: (a, b) => matmul(a, b) },
  "weight transposed (Linear)": { inputs: [{ shape: [2, 3, 4], dims: ["b", 3, 4] }, { shape: [5, 4] }], build: (a, b) => matmul(a, b, false, true) },
  "both transposed": { inputs: [{ shape: [2, 4, 3] }, { shape: [2, 5, 4] }], build: (a, b) => matmul(a, b, true, true) },
  "a transposed, broadcast batch": { inputs: [{ shape: [2, 1, 4, 3] }, { shape: [3, 4, 2] }], build: (a, b) => matmul(a, b, true, false) },
  "weight transposed, training graph (one 2-D product)": {
    inputs: [{ shape: [2, 3, 4], dims: ["b", "t", 4] }, { shape: [5, 4] }], build: (a, b) => matmul(a, b, false, true), training: true,
  },
  "attention scores": {
    inputs: [{ shape: [2, 2, 3, 4], dims: ["b", 2, "t", 4] }, { shape: [2, 2, 3, 4], dims: ["b", 2, "t", 4] }],
    build: (q, k) => matmul(q, k, false, true),
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`matmul ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`matmul ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

test("matmul: mismatched inner dimensions name both shapes", () => {
  const g = new Graph();
  const a = g.input("a", [2, 3], "float32"), b = g.input("b", [4, 5], "float32");
  assert.throws(() => trace(g, () => g.scoped("encoder", () => matmul(a, b))), (e: unknown) => {
    assert.ok(e instanceof ShapeError);
    assert.match(e.message, /MatMul in encoder: inner dimensions differ: \[2, 3\] @ \[4, 5\]/);
    return true;
  });
});
