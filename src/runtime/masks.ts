import { mixKeys } from "../core/rng.js";
import type { NDArray } from "../core/ndarray.js";
import { bindShape, resolveShape } from "../core/shape.js";
import type { Graph } from "../graph/graph.js";

/**
 * Symbol values of one run, read from the fed inputs' shapes (masks excluded: they are derived).
 */
export function bindSymbols(graph: Graph, feeds: Record<string, NDArray>): Map<string, number> {
  const env = new Map<string, number>();
  const maskIds = new Set(graph.masks.map((m) => m.tensor.id));
  for (const t of graph.inputs) {
    const f = feeds[t.name];
    if (f && !maskIds.has(t.id)) bindShape(t.shape, f.shape, env, `input "${t.name}"`);
  }
  return env;
}

/**
 * One dropout mask: each element kept with probability 1-p (value 1/(1-p)) or dropped (0),
 * from a xoshiro128** stream keyed by (seed, step, site): 32 random bits per element.
 */
export function dropoutMask(p: number, n: number, seed: number, step: number, site: number, out?: Float32Array | Float64Array): Float32Array | Float64Array {
  const data = out ?? new Float32Array(n);
  const keep = 1 / (1 - p);
  const threshold = Math.floor(p * 4294967296);
  const k = mixKeys([seed, step, site, 0x6d61736b]);
  const k2 = mixKeys([Number(k & 0xffffffffn), Number(k >> 32n)]);
  let s0 = Number(k & 0xffffffffn) | 0, s1 = Number(k >> 32n) | 0, s2 = Number(k2 & 0xffffffffn) | 0, s3 = Number(k2 >> 32n) | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  for (let i = 0; i < n; i++) {
    // xoshiro128** inlined: this loop fills tens of millions of elements per training step.
    const r = Math.imul(((Math.imul(s1, 5) << 7) | (Math.imul(s1, 5) >>> 25)), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    data[i] = r >= threshold ? keep : 0;
  }
  return data;
}

/**
 * The mask feeds of a training graph for one step. `reuse` keeps one buffer per site between
 * steps: allocating (and page-faulting) tens of megabytes per step costs as much as filling them.
 */
export function maskFeeds(graph: Graph, env: ReadonlyMap<string, number>, seed: number, step: number, reuse?: Map<number, Float32Array | Float64Array>): Record<string, NDArray> {
  const feeds: Record<string, NDArray> = {};
  for (const m of graph.masks) {
    const shape = resolveShape(m.tensor.shape, env);
    const n = shape.reduce((a, b) => a * b, 1);
    let buf = reuse?.get(m.site);
    if (!buf || buf.length < n) {
      buf = m.tensor.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
      reuse?.set(m.site, buf);
    }
    const data = dropoutMask(m.p, n, seed, step, m.site, buf.length === n ? buf : buf.subarray(0, n));
    feeds[m.tensor.name] = { dtype: m.tensor.dtype, shape, data };
  }
  return feeds;
}
