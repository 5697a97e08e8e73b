import assert from "node:assert/strict";
import { test } from "node:test";
import { ndarray } from "../core/ndarray.js";
import { Graph, trace } from "../graph/graph.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { evaluate } from "../runtime/reference.js";
import { distillationLoss } from "./distill_loss.js";

const kd: CheckCase = {
  inputs: [{ shape: [3, 4], dims: ["b", 4] }, { shape: [3, 4], dims: ["b", 4], grad: false }],
  build: (s, t) => distillationLoss(s, t, 2),
};

test("distillation loss: gradient matches finite differences; ONNX Runtime matches the reference", async () => {
  checkGradients(kd);
  await checkOnnx(kd);
});

test("distillation loss: T² · batch-mean KL(teacher ‖ student) of the softened distributions", () => {
  const s = [1, 2, 0.5, -1, 0, 3], t = [0.5, 1, 2, 2, -1, 0];
  const g = new Graph();
  const S = g.input("s", [2, 3], "float64"), T = g.input("t", [2, 3], "float64");
  const loss = trace(g, () => distillationLoss(S, T, 3));
  const got = evaluate(g, [loss], { s: ndarray("float64", [2, 3], s), t: ndarray("float64", [2, 3], t) })[0].data[0];
  const soft = (v: number[]) => {
    const e = v.map((x) => Math.exp(x / 3));
    const z = e.reduce((a, b) => a + b);
    return e.map((x) => x / z);
  };
  let kl = 0;
  for (let r = 0; r < 2; r++) {
    const p = soft(s.slice(r * 3, r * 3 + 3)), q = soft(t.slice(r * 3, r * 3 + 3));
    for (let c = 0; c < 3; c++) kl += q[c] * Math.log(q[c] / p[c]);
  }
  assert.ok(Math.abs(got - (9 * kl) / 2) < 1e-12, `${got} vs ${(9 * kl) / 2}`);
  // Identical distributions cost nothing.
  const same = evaluate(g, [loss], { s: ndarray("float64", [2, 3], t), t: ndarray("float64", [2, 3], t) })[0].data[0];
  assert.ok(Math.abs(same) < 1e-12);
});
