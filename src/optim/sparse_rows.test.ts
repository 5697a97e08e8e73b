import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";
import { sumTo } from "../ops/broadcast.js";
import { div, mul, sub, tanh } from "../ops/elementwise.js";
import { embedding } from "../ops/gather.js";
import { matmul } from "../ops/matmul.js";
import { hostAdamWScalars } from "./adamw_host.js";
import { AdamWArena, scratchArena } from "./adamw_wasm.js";
import { finishNorm, sumRowsById, type RowBuffer } from "./sparse_rows.js";
import { TrainStep } from "./train_step.js";

const hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

test("sumRowsById adds each id's rows in position order, ids ascending", () => {
  const rows = Float32Array.of(1, 2, 10, 20, 0.5, 0.25, 100, 200);
  const g = sumRowsById(rows, BigInt64Array.of(7n, 3n, 7n, 0n), 2, 9);
  assert.deepEqual([...g.ids], [0, 3, 7]);
  assert.deepEqual([...g.rows], [100, 200, 10, 20, 1.5, 2.25]);
  assert.equal(g.squaredSum, 100 ** 2 + 200 ** 2 + 10 ** 2 + 20 ** 2 + 1.5 ** 2 + 2.25 ** 2);
  assert.throws(() => sumRowsById(rows, BigInt64Array.of(7n, 3n, 9n, 0n), 2, 9, "emb"), /gradient rows of emb: id 9 at position 2 is outside \[0, 9\)/);
  assert.throws(() => sumRowsById(rows, BigInt64Array.of(7n, -1n, 2n, 0n), 2, 9, "emb"), /id -1 at position 1 is outside/);
  assert.throws(() => sumRowsById(rows, BigInt64Array.of(7n, 3n, 2n, 2n ** 32n + 1n), 2, 9, "emb"), /id 4294967297 at position 3 is outside/);
});

test("sumRowsById with a kept buffer: every call sums afresh (the id table is left clean)", () => {
  const reuse: RowBuffer = { data: new Float32Array(0) };
  const first = sumRowsById(Float32Array.of(1, 2, 3, 4, 5, 6), BigInt64Array.of(4n, 1n, 4n), 2, 6, "emb", reuse);
  assert.deepEqual([...first.ids], [1, 4]);
  assert.deepEqual([...first.rows], [3, 4, 6, 8]);
  const second = sumRowsById(Float32Array.of(1, 1, 2, 2, 4, 4), BigInt64Array.of(5n, 4n, 5n), 2, 6, "emb", reuse);
  assert.deepEqual([...second.ids], [4, 5]);
  assert.deepEqual([...second.rows], [2, 2, 5, 5]);
  assert.ok(reuse.slots && reuse.slots.every((v) => v === -1), "the id table is all -1 between calls");
  // A failed call leaves the table usable too.
  assert.throws(() => sumRowsById(Float32Array.of(1, 1, 2, 2), BigInt64Array.of(3n, 6n), 2, 6, "emb", reuse), /id 6/);
  assert.deepEqual([...sumRowsById(Float32Array.of(1, 1, 2, 2), BigInt64Array.of(3n, 3n), 2, 6, "emb", reuse).rows], [3, 3]);
});

test("finishNorm computes clip_grad_norm_'s norm and factor in float32", () => {
  const { norm, coef } = finishNorm(3, [6, 7], 1);
  assert.equal(norm, Math.fround(4));
  assert.equal(coef, Math.fround(1 / Math.fround(4 + Math.fround(1e-6))));
  assert.equal(finishNorm(0.25, [], 1).coef, 1);
  assert.equal(finishNorm(0.25, [], null).coef, null);
});

test("the row update equals the dense update over a table that is zero but for those rows, bit for bit", () => {
  const rng = new Rng(3);
  const rowsN = 700, width = 33; // odd width: rows start off the four-lane grid
  const n = rowsN * width;
  const rand = (scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
  const ids = Int32Array.of(0, 5, 6, 350, 699);
  const grads = Float32Array.from({ length: ids.length * width }, () => rng.normal());
  const dense = new Float32Array(n);
  ids.forEach((id, j) => dense.set(grads.subarray(j * width, (j + 1) * width), id * width));
  const arena = AdamWArena.create(3 * n, 3)!;
  for (const [where, alloc] of [["in the arena", (x: Float32Array) => { const a = arena.alloc(x.length); a.set(x); return a; }], ["elsewhere", (x: Float32Array) => Float32Array.from(x)]] as const) {
    const p0 = rand(1), m0 = rand(0.1), v0 = rand(0.01).map(Math.abs);
    const s = hostAdamWScalars(hyper, 1e-3, 0.01, 4, 0.3);
    const [p, m, v] = [p0, m0, v0].map(alloc);
    const [wp, wm, wv] = [p0, m0, v0].map((x) => Float32Array.from(x));
    (where === "in the arena" ? arena : scratchArena()).updateRows(p, m, v, ids, grads, width, s);
    scratchArena().update(wp, wm, wv, dense, s);
    for (const [name, got, want] of [["p", p, wp], ["m", m, wm], ["v", v, wv]] as const) {
      const bad = got.findIndex((x, i) => !Object.is(x, want[i]));
      assert.equal(bad, -1, `${where}: ${name}[${bad}] rows ${got[bad]} vs dense ${want[bad]}`);
    }
  }
});

/** An embedding table, a projection, a squared error: the smallest model with a row gradient. */
function model(): ParamSpec[] {
  const rng = new Rng(5);
  const p = (name: string, shape: number[]): ParamSpec => ({
    name, shape, noDecay: false, requiresGrad: true, data: Float32Array.from({ length: shape[0] * shape[1] }, () => rng.normal() * 0.5),
  });
  return [p("emb.weight", [40, 6]), p("proj.weight", [6, 2])];
}

async function compile(params: ParamSpec[], sparseRowsFrom: number): Promise<TrainStep> {
  const [table, proj] = params;
  return TrainStep.compile({
    inputs: [{ name: "ids", shape: ["batch", "seq"], dtype: "int64" }, { name: "y", shape: ["batch", "seq", 2], dtype: "float32" }],
    forward: ({ ids, y }: Record<string, Tensor>) => {
      const g = ids.graph;
      const out = matmul(tanh(embedding(g.param(table), ids)), g.param(proj)); // [B, T, 6] -> [B, T, 2]
      const d = sub(out, y);
      return { loss: div(sumTo(mul(d, d), []), 24) };
    },
    params, weightDecay: 0.01, maxGradNorm: 0.05, threads: 1, dropout: false, sparseRowsFrom,
  });
}

test("TrainStep: an embedding's row gradient trains exactly as its dense gradient (duplicates, clipping)", async () => {
  const dense = model(), rows = model();
  const a = await compile(dense, Infinity), b = await compile(rows, 0);
  try {
    assert.deepEqual(a.rowGradientTables, []);
    assert.deepEqual(b.rowGradientTables, ["emb.weight"]);
    const rng = new Rng(9);
    for (let step = 0; step < 4; step++) {
      // Few distinct ids, so rows repeat within the batch; some table rows never appear.
      const ids = BigInt64Array.from({ length: 12 }, () => BigInt(rng.int(15)));
      const batch = { ids: { dtype: "int64" as const, shape: [3, 4], data: ids }, y: { dtype: "float32" as const, shape: [3, 4, 2], data: Float32Array.from({ length: 24 }, () => rng.normal()) } };
      const ra = await a.step(batch, 1e-2), rb = await b.step(batch, 1e-2);
      assert.ok(Math.abs(ra.loss - rb.loss) <= 1e-6 * Math.abs(ra.loss), `step ${step}: loss ${rb.loss} vs ${ra.loss}`);
      assert.ok(Math.abs(ra.gradNorm - rb.gradNorm) <= 1e-6 * ra.gradNorm, `step ${step}: grad norm ${rb.gradNorm} vs ${ra.gradNorm}`);
    }
    dense.forEach((p, k) => p.data.forEach((x, i) => assert.ok(Math.abs(x - rows[k].data[i]) <= 1e-6, `${p.name}[${i}]: ${rows[k].data[i]} vs ${x}`)));
  } finally {
    await a.release();
    await b.release();
  }
});
