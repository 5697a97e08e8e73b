import assert from "node:assert/strict";
import { test } from "node:test";
import { ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { Graph, trace } from "../graph/graph.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { evaluate } from "../runtime/reference.js";
import { gradients } from "../graph/autodiff.js";
import { liveNodes } from "../runtime/lower.js";
import { add, mul, mulOp } from "./elementwise.js";
import { sumTo } from "./broadcast.js";
import { logSoftmax, softmax } from "./softmax.js";

const cases: Record<string, CheckCase> = {
  "last axis symbolic": { inputs: [{ shape: [2, 3, 5], dims: ["b", "t", 5] }], build: (x) => [softmax(x), logSoftmax(x)] },
  "middle axis": { inputs: [{ shape: [2, 4, 3] }], build: (x) => [softmax(x, 1), logSoftmax(x, -2)] },
  "first axis symbolic": { inputs: [{ shape: [3, 2], dims: ["n", 2] }], build: (x) => [softmax(x, 0), logSoftmax(x, 0)] },
  "after broadcast": { inputs: [{ shape: [2, 1, 4] }, { shape: [3, 4] }], build: (x, m) => softmax(add(x, m)) },
  // Attention dropout's shape: the backward takes y·dy from the forward product y·m.
  "scaled by a mask": { inputs: [{ shape: [2, 3, 5], dims: ["b", 3, 5] }, { shape: [2, 3, 5], dims: ["b", 3, 5], gen: "positive", grad: false }], build: (x, m) => mul(softmax(x), m) },
  "scaled by a mask, mask first": { inputs: [{ shape: [2, 4] }, { shape: [2, 4], gen: "positive", grad: false }], build: (x, m) => [mul(m, softmax(x)), softmax(x, 0)] },
  "large logits": { inputs: [{ shape: [2, 3], values: [1000, 1001, 999, -1000, -1002, -1001] }], build: (x) => [softmax(x), logSoftmax(mul(x, 1))] },
};

for (const [name, c] of Object.entries(cases)) {
  test(`softmax ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`softmax ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

test("softmax: behind a mask, the backward reuses the forward product and drops g·m", () => {
  const g = new Graph();
  const x = g.input("x", ["b", 4, 4], "float32");
  const m = g.input("m", ["b", 4, 4], "float32");
  const w = g.input("w", ["b", 4, 4], "float32");
  const [probs, dx] = trace(g, () => {
    const probs = mul(softmax(x), m);
    return [probs, gradients(sumTo(mul(probs, w), []), [x])[0]!];
  });
  // A training step computes the forward product anyway (the context reads it).
  const live = liveNodes(g, [probs, dx]);
  // Only the forward y·m reads the mask; without the rewrite the backward's g·m would too.
  assert.equal(live.filter((n) => n.op === mulOp && n.inputs.includes(m)).length, 1);
});

test("softmax: the reference is stable for huge logits", () => {
  const g = new Graph();
  const x = g.input("x", [3], "float64");
  const [p, lp] = trace(g, () => [softmax(x), logSoftmax(x)]);
  const [pv, lpv] = evaluate(g, [p, lp], { x: ndarray("float64", [3], [1e4, 1e4, -1e4]) });
  assert.deepEqual(Array.from(pv.data), [0.5, 0.5, 0]);
  assert.deepEqual(Array.from(lpv.data), [-Math.LN2, -Math.LN2, -2e4 - Math.LN2]);
});

test("softmax: a bad axis or dtype is a ShapeError quoting the shape", () => {
  const g = new Graph();
  const x = g.input("x", ["b", 4], "float32");
  const ids = g.input("ids", ["b", 4], "int64");
  trace(g, () => {
    assert.throws(() => softmax(x, 2), (e: Error) => e instanceof ShapeError && /axis 2 .*float32\[b, 4\]/.test(e.message));
    assert.throws(() => logSoftmax(x, -3), ShapeError);
    assert.throws(() => softmax(ids), (e: Error) => e instanceof ShapeError && /int64\[b, 4\]/.test(e.message));
  });
});
