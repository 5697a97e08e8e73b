import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import { Graph, trace } from "../graph/graph.js";
import { mul } from "../ops/elementwise.js";
import { CompiledGraph } from "../runtime/session.js";
import { adamwScalarInputs, adamwScalarValues, adamwUpdate, groupScalarInputs, groupScalarValues, type AdamWHyper } from "./adamw.js";
import { adamwInPlace, hostAdamWScalars } from "./adamw_host.js";

const hyper: AdamWHyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** Values over many magnitudes, zeros and denormal-sized ones: where a rounding slip would show. */
function values(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 0 : rng.normal() * scale * Math.pow(10, (i % 13) - 8)));
}

test("the host AdamW update equals the ONNX Runtime graph of the same formula bit for bit", async () => {
  const n = 50_000;
  const g = new Graph();
  const outs = trace(g, () => {
    const x = (name: string) => g.input(`in_${name}`, [n], "float32");
    const coef = g.input("coef", [], "float32");
    const u = adamwUpdate(x("p"), mul(x("g"), coef), x("m"), x("v"), adamwScalarInputs(g), groupScalarInputs(g, 0));
    return { new_p: u.p, new_m: u.m, new_v: u.v };
  });
  const graph = await CompiledGraph.compile(g, outs, { threads: 2 });
  const rng = new Rng(7);
  for (const [t, lr, wd, coef] of [[1, 2e-5, 0.01, 0.37], [3, 1e-3, 0, 1], [250, 5e-5, 0.1, 0.0123]]) {
    const p = values(rng, n, 1), grad = values(rng, n, 3), m = values(rng, n, 0.1);
    const v = values(rng, n, 0.01).map(Math.abs);
    const scalar = (x: number) => ({ dtype: "float32" as const, shape: [], data: Float32Array.of(x) });
    const feeds: Record<string, { dtype: "float32"; shape: number[]; data: Float32Array }> = {
      in_p: { dtype: "float32", shape: [n], data: p }, in_g: { dtype: "float32", shape: [n], data: grad },
      in_m: { dtype: "float32", shape: [n], data: m }, in_v: { dtype: "float32", shape: [n], data: v }, coef: scalar(coef),
    };
    for (const [k, x] of Object.entries(adamwScalarValues(hyper))) feeds[`adamw.${k}`] = scalar(x);
    for (const [k, x] of Object.entries(groupScalarValues(hyper, lr, wd, t))) feeds[`adamw.slot0.${k}`] = scalar(x);
    const want = await graph.run(feeds);
    const [hp, hm, hv] = [p, m, v].map((a) => Float32Array.from(a));
    adamwInPlace(hp, hm, hv, grad, hostAdamWScalars(hyper, lr, wd, t, coef));
    for (const [name, got] of [["p", hp], ["m", hm], ["v", hv]] as const) {
      const w = want[`new_${name}`].data as Float32Array;
      const bad = got.findIndex((x, i) => !Object.is(x, w[i]));
      assert.equal(bad, -1, `step ${t}: ${name}[${bad}] host ${got[bad]} vs graph ${w[bad]}`);
    }
  }
  await graph.release();
});

test("without clipping the gradient is used as it is", () => {
  const p = Float32Array.of(1, -2), m = new Float32Array(2), v = new Float32Array(2), g = Float32Array.of(0.5, -4);
  adamwInPlace(p, m, v, g, hostAdamWScalars(hyper, 0.1, 0, 1, null));
  // The first bias-corrected step moves each weight by lr·sign(g) (up to ε).
  assert.ok(Math.abs(p[0] - 0.9) < 1e-6 && Math.abs(p[1] + 1.9) < 1e-6, String([...p]));
  assert.deepEqual([...m], [Math.fround(Math.fround(0.1) * 0.5), Math.fround(Math.fround(0.1) * -4)]);
});
