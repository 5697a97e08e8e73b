import assert from "node:assert/strict";
import { test } from "node:test";
import { ndarray } from "../core/ndarray.js";
import { Graph, trace } from "../graph/graph.js";
import { bindSymbols, dropoutMask, MaskArena, maskFeeds } from "../runtime/masks.js";
import { evaluate } from "../runtime/reference.js";
import { dropout } from "./dropout.js";

test("dropout masks depend only on (seed, step, site)", () => {
  const a = dropoutMask(0.1, 1000, 7, 3, 2);
  assert.deepEqual(dropoutMask(0.1, 1000, 7, 3, 2), a);
  assert.notDeepEqual(dropoutMask(0.1, 1000, 7, 4, 2), a);
  assert.notDeepEqual(dropoutMask(0.1, 1000, 7, 3, 1), a);
  assert.notDeepEqual(dropoutMask(0.1, 1000, 8, 3, 2), a);
  // A longer mask starts with the shorter one: the stream does not depend on the tensor size.
  assert.deepEqual(dropoutMask(0.1, 2000, 7, 3, 2).subarray(0, 1000), a);
});

test("float32 masks (the WebAssembly SIMD kernel) hold the values of the JavaScript formula", () => {
  // Sizes around the four-lane width, the 16-element unrolled turn, the kernel threshold (64) and
  // its chunk (65536): each of the unrolled, one-vector and scalar loops ends some of them.
  for (const n of [63, 64, 67, 79, 65536, 65541, 65555, 200_003]) {
    for (const p of [0.1, 0.5, 0]) {
      const f32 = dropoutMask(p, n, 5, 9, 3) as Float32Array;
      const f64 = dropoutMask(p, n, 5, 9, 3, new Float64Array(n));
      const bad = f32.findIndex((v, i) => v !== Math.fround(f64[i]));
      assert.equal(bad, -1, `n=${n} p=${p}: element ${bad} is ${f32[bad]} in float32, ${f64[bad]} in float64`);
    }
  }
});

test("masks of different steps and neighbouring elements are independent", () => {
  const p = 0.25, n = 400_000;
  const a = dropoutMask(p, n, 1, 0, 0), b = dropoutMask(p, n, 1, 1, 0);
  let pairs = 0, across = 0;
  for (let i = 0; i + 1 < n; i++) {
    if (a[i] === 0 && a[i + 1] === 0) pairs++;
    if (a[i] === 0 && b[i] === 0) across++;
  }
  // p² = 0.0625 with a binomial standard deviation near 0.0004: 5 sigma.
  assert.ok(Math.abs(pairs / n - p * p) < 0.002, `neighbours both dropped ${pairs / n}`);
  assert.ok(Math.abs(across / n - p * p) < 0.002, `both steps dropped ${across / n}`);
});

test("dropout masks keep 1-p of the elements, scaled by 1/(1-p)", () => {
  const p = 0.3, n = 200_000;
  const m = dropoutMask(p, n, 1, 0, 0);
  let kept = 0, sum = 0;
  for (const v of m) {
    if (v !== 0) {
      kept++;
      assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-6);
    }
    sum += v;
  }
  // Binomial standard deviation is about 0.001 here: 5 sigma.
  assert.ok(Math.abs(kept / n - (1 - p)) < 0.005, `kept ${kept / n}`);
  assert.ok(Math.abs(sum / n - 1) < 0.01, `mean ${sum / n}`);
});

test("dropout is the identity outside training and a fed mask inside", () => {
  const g = new Graph();
  const x = g.input("x", ["b", 3], "float64");
  const y = trace(g, () => dropout(x, 0.5));
  assert.equal(y, x);
  g.training = true;
  const z = trace(g, () => dropout(x, 0.5));
  assert.equal(g.masks.length, 1);
  const feeds = { x: ndarray("float64", [4, 3], Array.from({ length: 12 }, (_, i) => i + 1)) };
  const masks = maskFeeds(g, bindSymbols(g, feeds), 11, 5);
  const out = evaluate(g, [z], { ...feeds, ...masks })[0];
  const m = masks[g.masks[0].tensor.name].data as Float64Array;
  assert.deepEqual(m.length, 12);
  out.data.forEach((v, i) => assert.equal(v, (i + 1) * m[i]));
  assert.ok(m.some((v) => v === 0) && m.some((v) => v === 2));
});

test("dropout rejects probabilities outside [0, 1)", () => {
  const g = new Graph();
  g.training = true;
  const x = g.input("x", [2], "float32");
  assert.throws(() => trace(g, () => dropout(x, 1)), /probability must be in \[0, 1\), got 1/);
});

test("MaskArena: the same masks as maskFeeds, drawn into one memory, as shapes grow and shrink", () => {
  const g = new Graph();
  g.training = true;
  const x = g.input("x", ["b", "t", 8], "float32");
  const y = g.input("y", ["b", 3], "float64");
  trace(g, () => {
    dropout(x, 0.1);
    dropout(dropout(x, 0.3), 0.5);
    dropout(y, 0.2);
  });
  const arena = new MaskArena();
  // Sizes that end in each of the kernel's loops, a growth past the first memory page, and a shrink.
  for (const [b, t, step] of [[2, 5, 0], [3, 7, 1], [64, 300, 2], [1, 1, 3], [2, 5, 0]]) {
    const feeds = { x: ndarray("float32", [b, t, 8], new Array(b * t * 8).fill(1)), y: ndarray("float64", [b, 3], new Array(b * 3).fill(1)) };
    const env = bindSymbols(g, feeds);
    const got = arena.feeds(g, env, 7, step);
    const want = maskFeeds(g, env, 7, step);
    for (const m of g.masks) {
      const a = got[m.tensor.name], w = want[m.tensor.name];
      assert.deepEqual(a.shape, w.shape);
      assert.equal(a.data.constructor, w.data.constructor, `site ${m.site} dtype`);
      assert.deepEqual(Array.from(a.data as Float32Array), Array.from(w.data as Float32Array), `site ${m.site} at [${b}, ${t}] step ${step}`);
    }
    // The float32 masks are views of one memory, four-lane aligned.
    const f32 = g.masks.filter((m) => m.tensor.dtype === "float32").map((m) => got[m.tensor.name].data);
    assert.ok(f32.every((d) => d.buffer === f32[0].buffer && d.byteOffset % 16 === 0));
  }
});
