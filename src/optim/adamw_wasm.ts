import { loadWasmKernel, wasmFloats, type WasmMemory } from "../core/wasm_kernel.js";
import type { HostAdamWScalars } from "./adamw_host.js";

/** Values per pass: the four arrays of one pass (512 KiB) stay in a core's L2 cache. */
const CHUNK = 32768;

type AdamWExport = (
  p: number, m: number, v: number, g: number, n: number, coef: number, beta1: number, oneMinusBeta1: number,
  beta2: number, oneMinusBeta2: number, eps: number, decay: number, stepSize: number, sqrtBc2: number,
) => void;

let kernel: { adamw: AdamWExport; heap: Float32Array } | null = null;

/**
 * The same update as adamwInPlace (adamw_host.ts), bit for bit, about five times faster: the
 * values pass through the WebAssembly SIMD kernel of adamw_kernel.wat in chunks, copied in and
 * out of its memory (plain memcpy), so the arrays may live anywhere and be of any size.
 *
 * @example
 * const s = hostAdamWScalars({ beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 2e-5, 0.01, 1, null);
 * adamwInPlaceSimd(param, m, v, grad, s);
 */
export function adamwInPlaceSimd(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, s: HostAdamWScalars): void {
  if (!kernel) {
    const { exports } = loadWasmKernel(new URL("./adamw_kernel.wasm", import.meta.url));
    kernel = { adamw: exports.adamw as AdamWExport, heap: wasmFloats(exports.memory as WasmMemory, 16 * CHUNK) };
  }
  const { adamw, heap } = kernel;
  const coef = s.clipCoef ?? 1;
  const n = g.length;
  for (let off = 0; off < n; off += CHUNK) {
    const k = Math.min(CHUNK, n - off);
    heap.set(p.subarray(off, off + k), 0);
    heap.set(m.subarray(off, off + k), CHUNK);
    heap.set(v.subarray(off, off + k), 2 * CHUNK);
    heap.set(g.subarray(off, off + k), 3 * CHUNK);
    adamw(0, 4 * CHUNK, 8 * CHUNK, 12 * CHUNK, k, coef, s.beta1, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.eps, s.decay, s.stepSize, s.sqrtBc2);
    p.set(heap.subarray(0, k), off);
    m.set(heap.subarray(CHUNK, CHUNK + k), off);
    v.set(heap.subarray(2 * CHUNK, 2 * CHUNK + k), off);
  }
}
