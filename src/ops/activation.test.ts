import assert from "node:assert/strict";
import { test } from "node:test";
import { ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import { lowerGraph } from "../runtime/lower.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { evaluate } from "../runtime/reference.js";
import { gelu } from "./activation.js";
import { mul } from "./elementwise.js";
import { sum } from "./reduce.js";

const cases: Record<string, CheckCase> = {
  "symbolic": { inputs: [{ shape: [2, 3, 4], dims: ["b", "t", 4] }], build: (x) => gelu(x) },
  "wide range": { inputs: [{ shape: [9], values: [-8, -3, -1, -0.1, 0, 0.1, 1, 3, 8] }], build: (x) => gelu(x) },
  "broadcast then gelu twice": {
    inputs: [{ shape: [2, 1, 3] }, { shape: [4, 3] }],
    build: (x, y) => gelu(mul(gelu(x), y)),
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`gelu ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`gelu ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

test("gelu: values and gradients match torch.nn.functional.gelu", () => {
  // Made with torch 2.x in float64: y = gelu(x); y.sum().backward().
  const xs = [-3, -1, -0.5, 0, 0.5, 1, 2.5];
  const wantY = [-0.00404969409489031, -0.15865525393145702, -0.15426876936299344, 0, 0.34573123063700656, 0.841344746068543, 2.4844758366855597];
  const wantDx = [-0.01194564720418392, -0.08331547058768635, 0.13250487534383712, 0.5, 0.8674951246561629, 1.0833154705876864, 1.037611085908145];
  const g = new Graph();
  const x = g.input("x", [xs.length], "float64");
  const [y, dx] = trace(g, () => {
    const y = gelu(x);
    return [y, gradients(sum(y), [x])[0]!];
  });
  const [yv, dxv] = evaluate(g, [y, dx], { x: ndarray("float64", [xs.length], xs) });
  xs.forEach((_, i) => {
    assert.ok(Math.abs(yv.data[i] - wantY[i]) < 1e-14, `y[${i}] ${yv.data[i]}`);
    assert.ok(Math.abs(dxv.data[i] - wantDx[i]) < 1e-14, `dx[${i}] ${dxv.data[i]}`);
  });
});

test("gelu: lowers to com.microsoft Gelu and imports that domain", () => {
  const g = new Graph();
  const x = g.input("x", ["b", 4], "float32");
  const y = trace(g, () => gelu(x));
  const { model } = lowerGraph(g, { y });
  assert.deepEqual(model.nodes.map((n) => [n.opType, n.domain]), [["Gelu", "com.microsoft"]]);
  assert.ok(model.opsets.some((o) => o.domain === "com.microsoft"));
});

test("gelu: an integer input is a ShapeError quoting its shape", () => {
  const g = new Graph();
  const ids = g.input("ids", ["b", 4], "int64");
  trace(g, () => assert.throws(() => gelu(ids), (e: Error) => e instanceof ShapeError && /int64\[b, 4\]/.test(e.message)));
});
