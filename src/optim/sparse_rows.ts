import { WhetError } from "../core/errors.js";

/** An embedding table's gradient as its nonzero rows: the rows of one id summed, ids ascending. */
export interface RowGradient {
  ids: Int32Array;
  /** [ids.length, width], row j the gradient of table row ids[j]. */
  rows: Float32Array;
  width: number;
  /** Σ of the squared values, in float64 (the table's share of the global norm). */
  squaredSum: number;
}

/**
 * Sums the per-position gradient rows of an embedding lookup by id, as the dense scatter-add
 * does: each id's rows are added in position order, in float32.
 *
 * @example
 * const g = sumRowsById(rows, ids, 256, 30522); // rows [B·T, 256], ids [B·T]
 * // `reuse` keeps the summed rows' buffer between steps; g.rows is then a view into it.
 */
export function sumRowsById(
  rows: Float32Array, ids: BigInt64Array, width: number, tableRows: number, name = "embedding", reuse?: RowBuffer,
): RowGradient {
  const n = ids.length;
  if (rows.length !== n * width) {
    throw new WhetError(`gradient rows of ${name}: ${rows.length} values for ${n} ids of width ${width}`);
  }
  const slotOf = new Map<number, number>();
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = Number(ids[i]);
    if (!(id >= 0 && id < tableRows)) throw new WhetError(`gradient rows of ${name}: id ${id} at position ${i} is outside [0, ${tableRows})`);
    if (!slotOf.has(id)) {
      slotOf.set(id, order.length);
      order.push(id);
    }
  }
  const sorted = Int32Array.from(order).sort();
  const rank = new Map<number, number>();
  sorted.forEach((id, j) => rank.set(id, j));
  const out = rowBuffer(reuse, sorted.length * width);
  for (let i = 0; i < n; i++) {
    const at = rank.get(Number(ids[i]))! * width;
    const src = i * width;
    // Float32Array stores round each sum to float32, as the graph's float32 additions do.
    for (let k = 0; k < width; k++) out[at + k] += rows[src + k];
  }
  let sq = 0;
  for (let k = 0; k < out.length; k++) sq += out[k] * out[k];
  return { ids: sorted, rows: out, width, squaredSum: sq };
}

/**
 * A buffer kept between steps: first touches of fresh memory cost page faults (about 4 ms per MB
 * on the virtual machines this was measured on), a zero fill of warm memory a fraction of that.
 */
export interface RowBuffer {
  data: Float32Array;
}

function rowBuffer(reuse: RowBuffer | undefined, n: number): Float32Array {
  if (!reuse) return new Float32Array(n);
  if (reuse.data.length < n) reuse.data = new Float32Array(Math.ceil(n * 1.25));
  const out = reuse.data.subarray(0, n);
  out.fill(0);
  return out;
}

const f = Math.fround;

/**
 * The global norm and clipping factor from squared sums, in clip.ts's float32 operations:
 * norm = √Σ, coef = min(max_norm / (norm + 1e-6), 1). `denseSq` is the graph's float32 Σg² of
 * the other gradients.
 */
export function finishNorm(denseSq: number, rowSq: readonly number[], maxNorm: number | null): { norm: number; coef: number | null } {
  let sq = f(denseSq);
  for (const r of rowSq) sq = f(sq + f(r));
  const norm = f(Math.sqrt(sq));
  if (maxNorm === null || !(maxNorm > 0)) return { norm, coef: null };
  return { norm, coef: Math.min(f(f(maxNorm) / f(norm + f(1e-6))), 1) };
}
