import assert from "node:assert/strict";
import { test } from "node:test";
import { ShapeError } from "../core/errors.js";
import { fromFloat64, type NDArray } from "../core/ndarray.js";
import { Rng } from "../core/rng.js";
import { resolveShape, type Dim } from "../core/shape.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import { checkGradients, checkOnnx, type CheckCase } from "../runtime/check.js";
import { evaluate } from "../runtime/reference.js";
import { CompiledGraph } from "../runtime/session.js";
import { sumTo } from "./broadcast.js";
import * as F from "./elementwise.js";
import { concat, pad, padTo, reshape, slice, squeeze, transpose, unsqueeze } from "./layout.js";

const cases: Record<string, CheckCase> = {
  "reshape merge and split": {
    inputs: [{ shape: [2, 3, 6], dims: ["b", "t", 6] }],
    build: (x) => [reshape(x, ["b*t", 6]), reshape(x, ["b", "t", 2, 3]), reshape(x, [6, "b*t"])],
  },
  "reshape back from a product": {
    inputs: [{ shape: [2, 3, 6], dims: ["b", "t", 6] }],
    build: (x) => F.mul(reshape(reshape(x, ["b*t", 6]), ["t", "b", 3, 2]), 2),
  },
  "reshape numeric": { inputs: [{ shape: [2, 6] }], build: (x) => reshape(x, [3, 4]) },
  "transpose": {
    inputs: [{ shape: [2, 3, 2, 4], dims: ["b", "t", 2, 4] }],
    build: (x) => [transpose(x, [0, 2, 1, 3]), transpose(x, [-1, 0, 2, 1])],
  },
  "slice numeric axis": {
    inputs: [{ shape: [4, 5] }],
    build: (x) => [slice(x, 1, 1, 4), slice(x, -1, -3, -1), slice(x, 0, 2, 100), slice(x, 0, -2)],
  },
  "slice a table to a symbolic length": {
    inputs: [{ shape: [6, 3] }, { shape: [2, 4, 3], dims: ["b", "seq", 3] }],
    build: (table, x) => F.add(x, slice(table, 0, 0, "seq")),
  },
  "slice a symbolic axis": {
    inputs: [{ shape: [2, 5, 3], dims: ["b", "t", 3] }],
    build: (x) => [slice(x, 1, 0, 1), slice(x, 1, -1), slice(x, 1, -3, -1), slice(x, 1, 1, 3), slice(x, 1, 0, "t")],
  },
  "pad": {
    inputs: [{ shape: [2, 3, 2], dims: ["b", "t", 2] }],
    build: (x) => [pad(x, 2, 1, 2), pad(x, -1, 0, 3), padTo(x, 1, 0, 7), padTo(x, 1, 2, 6)],
  },
  "concat": {
    inputs: [{ shape: [2, 3, 2], dims: ["b", "t", 2] }, { shape: [2, 3, 3], dims: ["b", "t", 3] }],
    build: (a, b) => [concat([a, b, a], -1), concat([a, F.exp(a)], 1)],
  },
  "concat to a named length (a key/value cache)": {
    inputs: [{ shape: [2, 3, 4], dims: [2, "past", 4] }, { shape: [2, 1, 4] }, { shape: [4], dims: ["kv"] }],
    build: (past, now, w) => F.mul(concat([past, now], 1, "kv"), reshape(w, [1, "kv", 1])),
  },
  "concat numeric then reshape": {
    inputs: [{ shape: [2, 3] }, { shape: [1, 3] }],
    build: (a, b) => reshape(concat([a, b], 0), [9]),
  },
  "unsqueeze/squeeze": {
    inputs: [{ shape: [2, 3], dims: ["b", "t"] }],
    build: (x) => [unsqueeze(x, 1), unsqueeze(x, -1), squeeze(unsqueeze(F.tanh(x), 0), 0)],
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`layout ${name}: gradient matches finite differences`, () => checkGradients(c));
  test(`layout ${name}: ONNX Runtime matches the reference`, () => checkOnnx(c));
}

interface SizedInput {
  dims: Dim[];
  gen?: "normal" | `int:${number}`;
}

/**
 * One compiled session, run at several sizes: forward and gradient against the reference.
 * Catches lowerings that bake in the trace-time value of a symbolic dim.
 */
async function checkAtSizes(specs: SizedInput[], build: (...xs: Tensor[]) => Tensor, sizes: Record<string, number>[]): Promise<void> {
  const g = new Graph();
  const ins = specs.map((s, i) => g.input(`x${i}`, s.dims, s.gen?.startsWith("int:") ? "int64" : "float32"));
  const targets = trace(g, () => {
    const y = build(...ins);
    const loss = sumTo(F.mul(y, y), []);
    const wrt = ins.filter((t) => t.dtype === "float32");
    const grads = gradients(loss, wrt);
    return Object.fromEntries([["y", y] as const, ...grads.map((d, i) => [`d${i}`, d!] as const)]);
  });
  const compiled = await CompiledGraph.compile(g, targets, { threads: 1 });
  try {
    for (const [k, env] of sizes.entries()) {
      const rng = new Rng(7, k);
      const feeds: Record<string, NDArray> = {};
      specs.forEach((s, i) => {
        const shape = resolveShape(s.dims, new Map(Object.entries(env)));
        const n = shape.reduce((a, b) => a * b, 1);
        const gen = s.gen ?? "normal";
        const v = Float64Array.from({ length: n }, () => (gen === "normal" ? rng.normal() : rng.int(Number(gen.slice(4)))));
        feeds[`x${i}`] = fromFloat64(ins[i].dtype, shape, v);
      });
      const names = Object.keys(targets);
      const ref = evaluate(g, names.map((n) => targets[n]), feeds);
      const got = await compiled.run(feeds);
      names.forEach((n, i) => {
        assert.deepEqual(got[n].shape, ref[i].shape, `${n} at ${JSON.stringify(env)}`);
        ref[i].data.forEach((r, j) => assert.ok(Math.abs(Number(got[n].data[j]) - r) <= 1e-4 * Math.max(1, Math.abs(r)), `${n}[${j}] at ${JSON.stringify(env)}: ${got[n].data[j]} vs ${r}`));
      });
    }
  } finally {
    await compiled.release();
  }
}

const sizes = [{ b: 2, t: 3 }, { b: 1, t: 5 }, { b: 3, t: 1 }];

test("layout: one session serves every batch and length", async () => {
  const spec = [{ dims: ["b", "t", 4] }];
  await checkAtSizes(spec, (x) => reshape(reshape(x, ["b*t", 4]), ["t", "b", 2, 2]), sizes);
  await checkAtSizes(spec, (x) => transpose(reshape(x, ["b", "t", 2, 2]), [0, 2, 1, 3]), sizes);
  await checkAtSizes(spec, (x) => F.add(slice(x, 1, 0, 1), slice(x, 1, -1)), sizes);
  await checkAtSizes(spec, (x) => concat([x, F.exp(x)], 1), sizes);
  await checkAtSizes(spec, (x) => F.add(slice(concat([x, F.tanh(x)], 1), 1, 0, "t"), 1), sizes);
  await checkAtSizes([{ dims: [6, 4] }, { dims: ["b", "t", 4] }], (table, x) => F.mul(slice(table, 0, 0, "t"), x), sizes);
  await checkAtSizes(spec, (x) => padTo(slice(x, 1, -1), 1, 1, 6), sizes);
  await checkAtSizes(spec, (x) => F.mul(padTo(x, 1, 0, 6), 3), sizes);
  await checkAtSizes(spec, (x) => squeeze(unsqueeze(x, 2), 2), sizes);
});

function throwsShape(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof ShapeError, `expected a ShapeError, got ${e}`);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" should mention ${p}`);
    return true;
  });
}

function inGraph<T>(fn: (g: Graph) => T): T {
  const g = new Graph();
  return trace(g, () => fn(g));
}

test("layout: bad shapes give a ShapeError naming both shapes", () => {
  throwsShape(() => inGraph((g) => reshape(g.input("x", [2, 3], "float32"), [4, 2])), "Reshape", "[2, 3]", "[4, 2]");
  throwsShape(() => inGraph((g) => reshape(g.input("x", ["b", "t", 6], "float32"), ["b", 6, 6])), "[b, t, 6]", "[b, 6, 6]");
  throwsShape(() => inGraph((g) => reshape(g.input("x", ["b", 6], "float32"), [-1, 3])), "[b, 6]", "[-1, 3]", "-1");
  throwsShape(() => inGraph((g) => pad(g.input("x", [2, 3], "float32"), 1, -1, 0)), "Pad", "[2, 3]", "negative");
  throwsShape(() => inGraph((g) => transpose(g.input("x", [2, 3, 4], "float32"), [0, 0, 1])), "Transpose", "[0, 0, 1]", "[2, 3, 4]");
  throwsShape(() => inGraph((g) => slice(g.input("x", ["b", "t"], "float32"), 1, 1)), "Slice", "[b, t]", "not a dim");
  throwsShape(() => inGraph((g) => slice(g.input("x", [9, 2], "float32"), 0, 1, "t")), "Slice", "[9, 2]", "start 0");
  throwsShape(() => inGraph((g) => pad(g.input("x", ["b", "t"], "float32"), 1, 1, 0)), "Pad", "[b, t]", "not a dim");
  throwsShape(() => inGraph((g) => concat([g.input("x", [2, 3], "float32"), g.input("y", [2, 4], "float32")], 0)), "Concat", "[2, 3]", "[2, 4]");
  throwsShape(() => inGraph((g) => concat([g.input("x", [2, "t"], "float32"), g.input("y", [1, "t"], "float32")], 1)), "[2, t]", "[1, t]");
  throwsShape(() => inGraph((g) => concat([g.input("x", ["t"], "float32"), g.input("y", [1], "float32")], 0)), "t + 1", "[t]", "[1]");
  throwsShape(() => inGraph((g) => squeeze(g.input("x", [2, 3], "float32"), 1)), "squeeze", "[2, 3]");
  throwsShape(() => inGraph((g) => unsqueeze(g.input("x", [2, 3], "float32"), 4)), "unsqueeze", "[2, 3]");
});

test("layout: a symbolic slice longer than the table is a clear error in the reference", () => {
  const g = new Graph();
  const table = g.input("table", [4, 2], "float32");
  const x = g.input("x", ["seq", 2], "float32");
  const y = trace(g, () => F.add(x, slice(table, 0, 0, "seq")));
  const feeds = { table: fromFloat64("float32", [4, 2], new Float64Array(8)), x: fromFloat64("float32", [5, 2], new Float64Array(10)) };
  assert.throws(() => evaluate(g, [y], feeds), /Slice: cannot take 5 elements at offset 0 on axis 0 of length 4/);
});

test("layout: identities add no nodes", () => {
  const g = new Graph();
  const x = g.input("x", ["b", "t", 3], "float32");
  trace(g, () => {
    assert.equal(reshape(x, ["b", "t", 3]), x);
    assert.equal(transpose(x, [0, 1, 2]), x);
    assert.equal(slice(x, 1, 0), x);
    assert.equal(slice(x, 1, 0, "t"), x);
    assert.equal(pad(x, 1, 0, 0), x);
    assert.equal(concat([x], 0), x);
  });
  assert.equal(g.nodes.length, 0);
});
