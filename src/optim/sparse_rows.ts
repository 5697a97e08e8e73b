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
  // Ids are read as 32-bit words (no BigInt per read) and placed through a table over the
  // vocabulary (no hashing): at BERT-mini 32×128 this took ~5 ms a step with a Map and BigInts,
  // and their garbage set off collections in the middle of the next run.
  const id = idsAsInt32(ids, tableRows, name);
  const slot = slotTable(reuse, tableRows);
  const unique = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (slot[id[i]] === -1) {
      slot[id[i]] = 0;
      unique[count++] = id[i];
    }
  }
  const sorted = unique.subarray(0, count).sort();
  for (let j = 0; j < count; j++) slot[sorted[j]] = j;
  const out = rowBuffer(reuse, count * width);
  for (let i = 0; i < n; i++) {
    const at = slot[id[i]] * width;
    const src = i * width;
    // Float32Array stores round each sum to float32, as the graph's float32 additions do.
    for (let k = 0; k < width; k++) out[at + k] += rows[src + k];
  }
  for (let j = 0; j < count; j++) slot[sorted[j]] = -1;
  let sq = 0;
  for (let k = 0; k < out.length; k++) sq += out[k] * out[k];
  return { ids: sorted, rows: out, width, squaredSum: sq };
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The ids as int32, each checked to lie in [0, tableRows). */
function idsAsInt32(ids: BigInt64Array, tableRows: number, name: string): Int32Array {
  const n = ids.length;
  const out = new Int32Array(n);
  const words = LITTLE_ENDIAN ? new Int32Array(ids.buffer, ids.byteOffset, 2 * n) : null;
  for (let i = 0; i < n; i++) {
    const v = words && words[2 * i + 1] === 0 ? words[2 * i] : Number(ids[i]);
    if (!(v >= 0 && v < tableRows)) throw new WhetError(`gradient rows of ${name}: id ${ids[i]} at position ${i} is outside [0, ${tableRows})`);
    out[i] = v;
  }
  return out;
}

/**
 * A buffer kept between steps: first touches of fresh memory cost page faults (about 4 ms per MB
 * on the virtual machines this was measured on), a zero fill of warm memory a fraction of that.
 * `slots` is a table over the vocabulary, -1 everywhere between calls.
 */
export interface RowBuffer {
  data: Float32Array;
  slots?: Int32Array;
}

function slotTable(reuse: RowBuffer | undefined, tableRows: number): Int32Array {
  if (reuse?.slots && reuse.slots.length === tableRows) return reuse.slots;
  const slots = new Int32Array(tableRows).fill(-1);
  if (reuse) reuse.slots = slots;
  return slots;
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
