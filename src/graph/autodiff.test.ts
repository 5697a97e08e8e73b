import assert from "node:assert/strict";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { sumTo } from "../ops/broadcast.js";
import * as F from "../ops/elementwise.js";
import { checkGradients } from "../runtime/check.js";
import { evaluate } from "../runtime/reference.js";
import { gradients } from "./autodiff.js";
import { Graph, trace } from "./graph.js";
import type { Tensor } from "./tensor.js";

const sum = (t: Tensor) => sumTo(t, []);

test("autodiff: a tensor used twice gets the sum of its gradients", () => {
  const g = new Graph();
  const x = g.input("x", [3], "float64");
  // d/dx sum(x*x + 3x) = 2x + 3: three uses of x, all summed.
  const dx = trace(g, () => gradients(sum(F.add(F.mul(x, x), F.mul(x, 3))), [x])[0]!);
  const feeds = { x: ndarray("float64", [3], [1, -2, 0.5]) };
  assert.deepEqual(Array.from(evaluate(g, [dx], feeds)[0].data), [5, -1, 4]);
  checkGradients({ inputs: [{ shape: [2, 3] }], build: (a) => F.mul(F.tanh(a), F.exp(a)) });
});

test("autodiff: a frozen input gets no gradient", () => {
  checkGradients({ inputs: [{ shape: [2, 3] }, { shape: [3], grad: false }], build: (a, b) => F.mul(a, F.exp(b)) });
  const g = new Graph();
  const a = g.input("a", [2], "float32"), b = g.input("b", [2], "float32"), c = g.input("c", [2], "float32");
  const [da, dc] = trace(g, () => gradients(sum(F.mul(a, b)), [a, c]));
  assert.ok(da);
  assert.equal(dc, null, "c does not reach the loss");
  const ids = g.input("ids", [2], "int64");
  const [dIds] = trace(g, () => gradients(sum(F.mul(a, F.cast(ids, "float32"))), [ids]));
  assert.equal(dIds, null, "integer inputs get no gradient");
});

test("autodiff: a branch that only feeds frozen inputs adds no backward nodes", () => {
  // loss = sum(a * f(b)), differentiated with respect to a only: f(b) is a leaf of the backward
  // graph, so its long chain must cost exactly what a plain input c costs in loss = sum(a * c).
  const backwardNodes = (branch: boolean) => {
    const g = new Graph();
    const a = g.input("a", [2, 3], "float32");
    const b = g.input("b", [2, 3], "float32");
    return trace(g, () => {
      const fb = branch ? F.sigmoid(F.exp(F.tanh(F.mul(b, b)))) : b;
      const inner = new Set(g.nodes.flatMap((n) => [...n.inputs, ...n.outputs]).filter((t) => t !== fb));
      const loss = sum(F.mul(a, fb));
      const before = g.nodes.length;
      const [da] = gradients(loss, [a]);
      assert.ok(da);
      const added = g.nodes.slice(before);
      // Backward rules of tanh/exp/sigmoid would read their inputs or outputs inside the chain.
      for (const n of added) for (const t of n.inputs) assert.ok(!inner.has(t), `backward node ${n.op.name} reads ${t}`);
      return added.length;
    });
  };
  assert.equal(backwardNodes(true), backwardNodes(false));
});

test("autodiff: a non-scalar or integer loss is rejected with a clear error", () => {
  const g = new Graph();
  const x = g.input("x", ["b", 3], "float32");
  const y = trace(g, () => F.mul(x, 2));
  assert.throws(() => trace(g, () => gradients(y, [x])), (e: Error) => e instanceof WhetError && /loss must be a scalar, got float32\[b, 3\]/.test(e.message));
  const n = trace(g, () => sum(F.cast(F.greater(x, 0), "int64")));
  assert.throws(() => trace(g, () => gradients(n, [x])), /loss must be floating point, got int64/);
});
