import { loadWasmKernel, wasmMemory, type WasmMemory } from "../core/wasm_kernel.js";
import type { HostAdamWScalars } from "./adamw_host.js";

/** Values per pass through the scratch area: 128 KiB of each array stay in a core's L2 cache. */
const CHUNK = 32768;
const PAGE = 65536;
/** The scratch area, in floats: a gradient chunk, a chunk of zeros (never written), and room for p, m, v. */
const GRAD = 0;
const ZERO = CHUNK;
const P = 2 * CHUNK;
const M = 3 * CHUNK;
const V = 4 * CHUNK;
const SCRATCH = 5 * CHUNK;
/** A memory this large or larger is not attempted (wasm32 addresses 4 GiB; keep headroom). */
const MAX_ARENA_BYTES = 3.5 * 2 ** 30;

type AdamWExport = (
  p: number, m: number, v: number, g: number, n: number, coef: number, beta1: number, oneMinusBeta1: number,
  beta2: number, oneMinusBeta2: number, eps: number, decay: number, stepSize: number, sqrtBc2: number,
) => void;

/**
 * The AdamW update of adamw_host.ts, bit for bit, in the WebAssembly SIMD kernel of
 * adamw_kernel.wat (about five times faster than the scalar loop). Arrays allocated from the
 * arena (`alloc`) are updated where they lie, with only the gradient copied through a
 * cache-sized scratch area; other arrays pass through the scratch area whole, in chunks.
 * The memory is sized once and never grows: growing would detach every view handed out.
 *
 * @example
 * const arena = AdamWArena.create(3 * n, 3)!; // parameters and both moments
 * const p = arena.alloc(n), m = arena.alloc(n), v = arena.alloc(n);
 * arena.update(p, m, v, grad, hostAdamWScalars({ beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 2e-5, 0.01, 1, null));
 */
export class AdamWArena {
  private next: number;

  private constructor(
    private readonly memory: WasmMemory,
    private readonly adamw: AdamWExport,
    private readonly scratch: Float32Array,
  ) {
    this.next = scratch.byteLength;
  }

  /**
   * An arena with room for `floats` values in `arrays` arrays besides the scratch area, or null
   * when that is more than a WebAssembly memory should hold (the caller then keeps plain arrays).
   */
  static create(floats: number, arrays = 0): AdamWArena | null {
    // Each of the `arrays` allocations is padded to 16 bytes: every array starts four-lane aligned.
    const bytes = 4 * SCRATCH + 4 * floats + 16 * arrays;
    if (bytes > MAX_ARENA_BYTES) return null;
    let memory: WasmMemory;
    try {
      memory = wasmMemory(Math.ceil(bytes / PAGE));
    } catch (e) {
      // The engine could not reserve that much (a RangeError): plain arrays still work, slower.
      if (e instanceof RangeError) return null;
      throw e;
    }
    const { exports } = loadWasmKernel(new URL("./adamw_kernel.wasm", import.meta.url), { env: { memory } });
    return new AdamWArena(memory, exports.adamw as AdamWExport, new Float32Array(memory.buffer, 0, SCRATCH));
  }

  /** A zeroed array of n values inside the arena. */
  alloc(n: number): Float32Array {
    const start = this.next;
    const end = start + 4 * n;
    if (end > this.memory.buffer.byteLength) throw new RangeError(`AdamW arena: no room for ${n} more values`);
    this.next = Math.ceil(end / 16) * 16;
    return new Float32Array(this.memory.buffer, start, n);
  }

  private owns(a: Float32Array): boolean {
    return a.buffer === this.memory.buffer && a.byteOffset % 16 === 0;
  }

  /** One AdamW update over equally long arrays; p, m and v are written in place. */
  update(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, s: HostAdamWScalars): void {
    this.pass(p, m, v, 0, g.length, s, (off, k) => this.scratch.set(g.subarray(off, off + k), GRAD));
  }

  /**
   * The update of a [rows, width] table whose gradient is zero but for the rows `ids` (ascending,
   * distinct), whose values `grads` holds in that order: dense AdamW's result, bit for bit,
   * without a dense gradient. Untouched rows still decay and move by their moments, as in torch.
   */
  updateRows(p: Float32Array, m: Float32Array, v: Float32Array, ids: Int32Array, grads: Float32Array, width: number, s: HostAdamWScalars): void {
    const total = p.length;
    let at = 0;
    for (let j = 0; j <= ids.length; j++) {
      const rowStart = j < ids.length ? ids[j] * width : total;
      this.pass(p, m, v, at, rowStart - at, s, null);
      if (j === ids.length) break;
      const row = grads.subarray(j * width, (j + 1) * width);
      this.pass(p, m, v, rowStart, width, s, (off, k) => this.scratch.set(row.subarray(off - rowStart, off - rowStart + k), GRAD));
      at = rowStart + width;
    }
  }

  /**
   * Elements [from, from + n) in chunks: `fill(off, k)` writes the gradient of elements
   * [off, off + k) at GRAD in the scratch area; null means a zero gradient.
   */
  private pass(
    p: Float32Array, m: Float32Array, v: Float32Array, from: number, n: number, s: HostAdamWScalars,
    fill: ((off: number, k: number) => void) | null,
  ): void {
    const coef = s.clipCoef ?? 1;
    const sc = this.scratch;
    const gAt = fill ? 4 * GRAD : 4 * ZERO;
    const inPlace = this.owns(p) && this.owns(m) && this.owns(v);
    for (let off = from; off < from + n; off += CHUNK) {
      const k = Math.min(CHUNK, from + n - off);
      fill?.(off, k);
      if (inPlace) {
        this.adamw(p.byteOffset + 4 * off, m.byteOffset + 4 * off, v.byteOffset + 4 * off, gAt, k,
          coef, s.beta1, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.eps, s.decay, s.stepSize, s.sqrtBc2);
        continue;
      }
      sc.set(p.subarray(off, off + k), P);
      sc.set(m.subarray(off, off + k), M);
      sc.set(v.subarray(off, off + k), V);
      this.adamw(4 * P, 4 * M, 4 * V, gAt, k,
        coef, s.beta1, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.eps, s.decay, s.stepSize, s.sqrtBc2);
      p.set(sc.subarray(P, P + k), off);
      m.set(sc.subarray(M, M + k), off);
      v.set(sc.subarray(V, V + k), off);
    }
  }
}

let shared: AdamWArena | null = null;

/**
 * An arena holding only the scratch area: it updates arrays that live anywhere, in chunks.
 *
 * @example
 * scratchArena().update(param, m, v, grad, hostAdamWScalars({ beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 2e-5, 0.01, 1, null));
 */
export function scratchArena(): AdamWArena {
  shared ??= AdamWArena.create(0)!;
  return shared;
}
