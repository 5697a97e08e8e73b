import type { DType } from "./dtype.js";
import { WhetError } from "./errors.js";

export type TypedData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** A concrete host tensor: row-major data whose array type follows the dtype. */
export interface NDArray {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedData;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocData(dtype: DType, n: number): TypedData {
  switch (dtype) {
    case "float32": return new Float32Array(n);
    case "float64": return new Float64Array(n);
    case "int64": return new BigInt64Array(n);
    case "bool": return new Uint8Array(n);
  }
}

/** Build an NDArray from plain numbers, converting to the dtype's array type. */
export function ndarray(dtype: DType, shape: readonly number[], values: ArrayLike<number> | ArrayLike<bigint>): NDArray {
  const n = sizeOf(shape);
  if (values.length !== n) throw new WhetError(`ndarray: shape [${shape.join(", ")}] needs ${n} values, got ${values.length}`);
  const data = allocData(dtype, n);
  if (data instanceof BigInt64Array) for (let i = 0; i < n; i++) data[i] = BigInt(values[i] as number | bigint);
  else for (let i = 0; i < n; i++) data[i] = Number(values[i]);
  return { dtype, shape: [...shape], data };
}

/** Values as float64, whatever the dtype (int64 beyond 2^53 loses precision: ids never get there). */
export function toFloat64(a: NDArray): Float64Array {
  if (a.data instanceof Float64Array) return a.data;
  const out = new Float64Array(a.data.length);
  const d = a.data;
  for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  return out;
}

export function fromFloat64(dtype: DType, shape: readonly number[], v: Float64Array): NDArray {
  if (dtype === "float64") return { dtype, shape: [...shape], data: v };
  const data = allocData(dtype, v.length);
  if (data instanceof BigInt64Array) for (let i = 0; i < v.length; i++) data[i] = BigInt(Math.round(v[i]));
  else if (data instanceof Uint8Array) for (let i = 0; i < v.length; i++) data[i] = v[i] !== 0 ? 1 : 0;
  else data.set(v);
  return { dtype, shape: [...shape], data };
}
