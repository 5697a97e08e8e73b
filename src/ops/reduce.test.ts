import assert from "node:assert/strict";
import { test } from "node:test";
import { ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { evaluate } from "../runtime/reference.js";
import { CompiledGraph } from "../runtime/session.js";
import { mul } from "./elementwise.js";
import * as R from "./reduce.js";

const cases: Record<string, CheckCase> = {
  "sum one axis": { inputs: [{ shape: [2, 3, 4] }], build: (x) => R.sum(x, [1]) },
  "sum all symbolic": { inputs: [{ shape: [2, 3, 4], dims: ["b", "t", 4] }], build: (x) => R.sum(x) },
  "sum negative keepdims": { inputs: [{ shape: [2, 3, 4], dims: ["b", 3, 4] }], build: (x) => R.sum(x, [-1, 0], true) },
  "sum then broadcast": { inputs: [{ shape: [3, 4] }, { shape: [3, 1] }], build: (x, y) => mul(R.sum(x, [1], true), y) },
  "mean symbolic count": { inputs: [{ shape: [2, 3, 4], dims: ["b", "t", 4] }], build: (x) => [R.mean(x, [0, 1]), R.mean(x, [-1], true)] },
  "mean all": { inputs: [{ shape: [3, 5], dims: ["n", 5] }], build: (x) => R.mean(x) },
  "max axes": { inputs: [{ shape: [2, 3, 4], dims: ["b", 3, 4] }], build: (x) => [R.max(x, [1]), R.max(x, [0, 2], true)] },
  "max all": { inputs: [{ shape: [4, 5] }], build: (x) => R.max(x) },
  "restoreAxes": { inputs: [{ shape: [2, 3], dims: ["b", 3] }], build: (x) => R.restoreAxes(x, [0, -1]) },
};

for (const [name, c] of Object.entries(cases)) {
  test(`reduce ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`reduce ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

test("reduce: int64 sum and max run in ONNX Runtime", () =>
  checkOnnx({ inputs: [{ shape: [3, 4], dtype: "int64", gen: "int:7" }], build: (x) => [R.sum(x, [0]), R.max(x, [1])] }));

test("reduce: an empty axis list is the identity, never 'reduce everything'", () => {
  const g = new Graph();
  const x = g.input("x", [2, 3], "float32");
  const s = g.input("s", [], "float32");
  trace(g, () => {
    assert.equal(R.sum(x, []), x);
    assert.equal(R.mean(x, [], true), x);
    assert.equal(R.max(s), s); // a scalar has no axes to reduce
  });
});

test("reduce max: tied maxima share the gradient equally (reference and ONNX Runtime)", async () => {
  const g = new Graph();
  const x = g.input("x", [2, 4], "float32");
  const w = g.input("w", [2], "float32");
  const { loss, dx } = trace(g, () => {
    const loss = R.sum(mul(R.max(x, [1]), w));
    return { loss, dx: gradients(loss, [x])[0]! };
  });
  const feeds = { x: ndarray("float32", [2, 4], [1, 3, 3, 2, 5, 5, 5, -1]), w: ndarray("float32", [2], [2, 3]) };
  const want = [0, 1, 1, 0, 1, 1, 1, 0];
  assert.deepEqual(Array.from(evaluate(g, [dx], feeds)[0].data), want);
  const compiled = await CompiledGraph.compile(g, { dx, loss }, { threads: 1 });
  try {
    const got = await compiled.run(feeds);
    assert.deepEqual(Array.from(got.dx.data as Float32Array), want);
    assert.equal((got.loss.data as Float32Array)[0], 2 * 3 + 3 * 5);
  } finally {
    await compiled.release();
  }
});

test("reduce: bad axes and dtypes are ShapeErrors quoting the shape", () => {
  const g = new Graph();
  const x = g.input("x", ["b", 3], "float32");
  const ids = g.input("ids", ["b", 3], "int64");
  trace(g, () => {
    assert.throws(() => R.sum(x, [2]), (e: Error) => e instanceof ShapeError && /axis 2 .*float32\[b, 3\]/.test(e.message));
    assert.throws(() => R.max(x, [-3]), ShapeError);
    assert.throws(() => R.sum(x, [1, -1]), /repeat an axis of float32\[b, 3\]/);
    assert.throws(() => R.mean(ids, [0]), (e: Error) => e instanceof ShapeError && /ReduceMean.*int64\[b, 3\]/.test(e.message));
  });
});

const normCases: Record<string, CheckCase> = {
  "sumSquares": { inputs: [{ shape: [3, 4] }], build: (x) => R.sumSquares(x) },
  "sumSquares symbolic": { inputs: [{ shape: [2, 3, 4], dims: ["b", "t", 4] }], build: (x) => R.sumSquares(x) },
  "sumOf three": { inputs: [{ shape: [2, 3] }, { shape: [2, 3] }, { shape: [2, 3] }], build: (x, y, z) => R.sumOf([x, mul(y, y), z]) },
  "sumOf of squares": { inputs: [{ shape: [5] }, { shape: [2, 2] }], build: (x, y) => R.sumOf([R.sumSquares(x), R.sumSquares(y)]) },
};

for (const [name, c] of Object.entries(normCases)) {
  test(`reduce ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`reduce ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

test("reduce: sumOf refuses tensors of different shapes", () => {
  const g = new Graph();
  const x = g.input("x", [2, 3], "float32"), y = g.input("y", [3], "float32");
  assert.throws(() => trace(g, () => R.sumOf([x, y])), /sumOf needs one shape and dtype, got float32\[2, 3\] and float32\[3\]/);
});
