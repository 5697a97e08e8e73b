import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import { adamwInPlace, hostAdamWScalars } from "./adamw_host.js";
import { scratchArena } from "./adamw_wasm.js";

const hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** Zeros, subnormal-sized and large values, both signs: where a rounding or lane slip would show. */
function values(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => {
    if (i % 97 === 0) return 0;
    if (i % 89 === 0) return rng.normal() * 1e-42;
    return rng.normal() * scale * Math.pow(10, (i % 13) - 8);
  });
}

test("the WebAssembly SIMD AdamW equals the scalar host update bit for bit", () => {
  const rng = new Rng(11);
  // Lengths around the four-lane width and across the kernel's chunk boundary (32768).
  for (const n of [1, 3, 4, 7, 32768, 32771, 100_003]) {
    for (const [t, lr, wd, coef] of [[1, 2e-5, 0.01, 0.37], [3, 1e-3, 0, null], [250, 5e-5, 0.1, 1e-30]] as const) {
      const p = values(rng, n, 1), g = values(rng, n, 3), m = values(rng, n, 0.1);
      const v = values(rng, n, 0.01).map(Math.abs);
      const s = hostAdamWScalars(hyper, lr, wd, t, coef);
      const [wp, wm, wv] = [p, m, v].map((a) => Float32Array.from(a));
      adamwInPlace(wp, wm, wv, g, s);
      scratchArena().update(p, m, v, g, s);
      for (const [name, got, want] of [["p", p, wp], ["m", m, wm], ["v", v, wv]] as const) {
        const bad = got.findIndex((x, i) => !Object.is(x, want[i]));
        assert.equal(bad, -1, `n=${n} step ${t}: ${name}[${bad}] simd ${got[bad]} vs scalar ${want[bad]}`);
      }
    }
  }
});

test("the SIMD update works on views into larger buffers and leaves the rest alone", () => {
  const p = new Float32Array(10).fill(1), m = new Float32Array(10), v = new Float32Array(10), g = new Float32Array(10).fill(0.5);
  scratchArena().update(p.subarray(3, 8), m.subarray(3, 8), v.subarray(3, 8), g.subarray(3, 8), hostAdamWScalars(hyper, 0.1, 0, 1, null));
  assert.deepEqual([...p.subarray(0, 3), ...p.subarray(8)], [1, 1, 1, 1, 1]);
  // The first bias-corrected step moves each weight by lr·sign(g) (up to ε).
  for (const x of p.subarray(3, 8)) assert.ok(Math.abs(x - 0.9) < 1e-6, String(x));
});
