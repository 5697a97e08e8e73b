import { WhetError } from "../core/errors.js";
import { mixKeys } from "../core/rng.js";
import { loadWasmKernel, wasmFloats, type WasmMemory } from "../core/wasm_kernel.js";
import type { NDArray } from "../core/ndarray.js";
import { bindShape, resolveShape } from "../core/shape.js";
import type { Graph, MaskSite } from "../graph/graph.js";

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

/** The two 32-bit keys of a mask, from (seed, step, site). */
function maskKeys(seed: number, step: number, site: number): [number, number] {
  const k = mixKeys([seed, step, site, 0x6d61736b]);
  return [Number(k & 0xffffffffn) | 0, Number(k >> 32n) | 0];
}

/** Wellons' lowbias32: a 32-bit integer hash whose output bits each flip with ~1/2 probability. */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** The largest mask a 32-bit element counter can key. */
const MAX_MASK = 2 ** 32;

/**
 * One dropout mask: each element kept with probability 1-p (value 1/(1-p)) or dropped (0).
 * Element i is kept when h(i) = mix(mix(i ⊕ k0) ⊕ k1) ≥ p·2³², with the keys (k0, k1) from
 * (seed, step, site): 32 random bits per element, and no state carried from one element to the
 * next, so the WebAssembly kernel (dropout_kernel.wat) fills float32 masks four lanes at a time
 * with these same values, and a longer mask starts with a shorter one.
 */
export function dropoutMask(p: number, n: number, seed: number, step: number, site: number, out?: Float32Array | Float64Array): Float32Array | Float64Array {
  const { k0, k1, threshold, keep } = maskParams(p, n, seed, step, site);
  const data = out ?? new Float32Array(n);
  if (data instanceof Float32Array && n >= SIMD_MIN) {
    simdMask(data, n, k0, k1, threshold, keep);
    return data;
  }
  for (let i = 0; i < n; i++) data[i] = mix(mix(i ^ k0) ^ k1) >= threshold ? keep : 0;
  return data;
}

/** The kernel's arguments for one mask: its keys, the drop threshold on h(i) and the kept value. */
function maskParams(p: number, n: number, seed: number, step: number, site: number) {
  if (n > MAX_MASK) throw new WhetError(`dropout mask of ${n} elements at site ${site}: at most 2^32 are supported`);
  const [k0, k1] = maskKeys(seed, step, site);
  return { k0, k1, threshold: Math.floor(p * 4294967296), keep: 1 / (1 - p) };
}

/** Below this many elements the JavaScript loop is as fast as a call into the kernel. */
const SIMD_MIN = 64;
/** Elements per kernel call: a 256 KiB chunk is written and copied out while it is in cache. */
const CHUNK = 65536;
let kernel: { mask: MaskExport; heap: Float32Array } | null = null;
type MaskExport = (out: number, first: number, n: number, k0: number, k1: number, threshold: number, keep: number) => void;

function simdMask(data: Float32Array, n: number, k0: number, k1: number, threshold: number, keep: number): void {
  if (!kernel) {
    const { exports } = loadWasmKernel(new URL("./dropout_kernel.wasm", import.meta.url));
    kernel = { mask: exports.mask as MaskExport, heap: wasmFloats(exports.memory as WasmMemory, 4 * CHUNK) };
  }
  const { mask, heap } = kernel;
  for (let first = 0; first < n; first += CHUNK) {
    const c = Math.min(CHUNK, n - first);
    mask(0, first | 0, c, k0, k1, threshold | 0, keep);
    data.set(heap.subarray(0, c), first);
  }
}

/**
 * The mask feeds of a training graph for one step. `reuse` keeps one buffer per site between
 * steps: allocating (and page-faulting) tens of megabytes per step costs as much as filling them.
 */
export function maskFeeds(graph: Graph, env: ReadonlyMap<string, number>, seed: number, step: number, reuse?: Map<number, Float32Array | Float64Array>): Record<string, NDArray> {
  const feeds: Record<string, NDArray> = {};
  for (const m of graph.masks) {
    const shape = resolveShape(m.tensor.shape, env);
    const data = drawReused(m, shape.reduce((a, b) => a * b, 1), seed, step, reuse);
    feeds[m.tensor.name] = { dtype: m.tensor.dtype, shape, data };
  }
  return feeds;
}

/** Site `m`'s first `n` mask values, into its buffer in `reuse` (kept between steps, grown when short). */
function drawReused(m: MaskSite, n: number, seed: number, step: number, reuse?: Map<number, Float32Array | Float64Array>): Float32Array | Float64Array {
  let buf = reuse?.get(m.site);
  if (!buf || buf.length < n) {
    buf = m.tensor.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
    reuse?.set(m.site, buf);
  }
  return dropoutMask(m.p, n, seed, step, m.site, buf.length === n ? buf : buf.subarray(0, n));
}

/** A run's masks larger than this are drawn per site through the small chunk instead. */
const ARENA_MAX_BYTES = 2 ** 30;

/**
 * The mask feeds of a training graph's runs, drawn by the kernel straight into one WebAssembly
 * memory and fed as views of it: no copy out of the kernel's chunk (BERT-mini 32×128: 17.8M
 * values, ~14 → ~10.6 ms a step). The same values as dropoutMask. Each call reuses the memory,
 * so the feeds of one call are valid until the next; float64 masks, and runs whose masks exceed
 * 1 GiB, take maskFeeds's path with buffers kept per site.
 *
 * @example
 * const masks = new MaskArena(); // one per training step: calls must not overlap
 * const feeds = masks.feeds(graph, bindSymbols(graph, batch), seed, step);
 */
export class MaskArena {
  private kernel: { mask: MaskExport; memory: WasmMemory } | null = null;
  private readonly reuse = new Map<number, Float32Array | Float64Array>();

  feeds(graph: Graph, env: ReadonlyMap<string, number>, seed: number, step: number): Record<string, NDArray> {
    const sites = graph.masks.map((m) => {
      const shape = resolveShape(m.tensor.shape, env);
      return { m, shape, n: shape.reduce((a, b) => a * b, 1), at: -1 };
    });
    let bytes = 0;
    for (const s of sites) {
      if (s.m.tensor.dtype !== "float32") continue;
      s.at = bytes;
      bytes += Math.ceil(s.n / 4) * 16; // every mask starts four-lane aligned
    }
    if (bytes === 0 || bytes > ARENA_MAX_BYTES) return maskFeeds(graph, env, seed, step, this.reuse);
    if (!this.kernel) {
      const { exports } = loadWasmKernel(new URL("./dropout_kernel.wasm", import.meta.url));
      this.kernel = { mask: exports.mask as MaskExport, memory: exports.memory as WasmMemory };
    }
    // Growing detaches earlier views: the view is taken after, and only this call's feeds use it.
    const heap = wasmFloats(this.kernel.memory, bytes);
    const feeds: Record<string, NDArray> = {};
    for (const { m, shape, n, at } of sites) {
      let data: Float32Array | Float64Array;
      if (at >= 0) {
        const { k0, k1, threshold, keep } = maskParams(m.p, n, seed, step, m.site);
        this.kernel.mask(at, 0, n, k0, k1, threshold | 0, keep);
        data = heap.subarray(at / 4, at / 4 + n);
      } else data = drawReused(m, n, seed, step, this.reuse);
      feeds[m.tensor.name] = { dtype: m.tensor.dtype, shape, data };
    }
    return feeds;
  }
}
