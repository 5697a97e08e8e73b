/**
 * A tensor as checkpoint files store it: a safetensors dtype name, a shape and little-endian
 * bytes (usually a view into the file buffer). Conversions to whet's NDArray and to float32 live
 * here so the safetensors and torch readers share them.
 */
import type { DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";

/** The element types of the safetensors format, in the Rust crate's `Dtype` enum order. */
export const ST_DTYPES = [
  "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64",
] as const;
export type StDType = (typeof ST_DTYPES)[number];

const ITEM_SIZE: Record<StDType, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

export interface RawTensor {
  readonly dtype: StDType;
  readonly shape: readonly number[];
  /** Little-endian, row-major; usually a view into the file's buffer (no copy). */
  readonly bytes: Uint8Array;
}

export function isStDType(s: unknown): s is StDType {
  return typeof s === "string" && Object.prototype.hasOwnProperty.call(ITEM_SIZE, s);
}

export function itemSize(d: StDType): number {
  return ITEM_SIZE[d];
}

/** Rank of a dtype in the Rust enum: the writer sorts by it, descending, like `safetensors`. */
export function dtypeRank(d: StDType): number {
  return ST_DTYPES.indexOf(d);
}

/** whet dtype → safetensors dtype. */
export const ST_OF_WHET: Record<DType, StDType> = { float32: "F32", float64: "F64", int64: "I64", bool: "BOOL" };

// Typed-array views reinterpret bytes in host order; every machine whet targets is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
export function assertLittleEndian(doing: string): void {
  if (!LITTLE_ENDIAN) throw new WhetError(`${doing}: big-endian hosts are not supported (checkpoint bytes are little-endian)`);
}

type Ctor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** A typed view of the bytes; copies only when the view would be misaligned. */
function view<T>(bytes: Uint8Array, C: Ctor<T>): T {
  const n = bytes.byteLength / C.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % C.BYTES_PER_ELEMENT === 0) return new C(bytes.buffer, bytes.byteOffset, n);
  const copy = bytes.slice();
  return new C(copy.buffer, 0, n);
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkSize(raw: RawTensor, doing: string): void {
  const want = numel(raw.shape) * ITEM_SIZE[raw.dtype];
  if (raw.bytes.byteLength !== want) {
    throw new WhetError(`${doing}: ${raw.dtype} [${raw.shape.join(", ")}] needs ${want} bytes, got ${raw.bytes.byteLength}`);
  }
}

// F16 decoding through a 65,536-entry table (256 KB, built on first use): one lookup per element.
let f16Table: Float32Array | undefined;
function f16Lut(): Float32Array {
  if (f16Table) return f16Table;
  f16Table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) f16Table[h] = sign * m * 2 ** -24; // zero and subnormals: m · 2^-24
    else if (e === 31) f16Table[h] = m ? NaN : sign * Infinity;
    else f16Table[h] = sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return f16Table;
}

/** float8 e4m3fn (no infinity; S.1111.111 is NaN) and e5m2 (the top byte of an IEEE half). */
function f8Value(b: number, e4m3: boolean): number {
  if (!e4m3) return f16Lut()[b << 8];
  const sign = b & 0x80 ? -1 : 1;
  const e = (b >> 3) & 0xf;
  const m = b & 7;
  if (e === 15 && m === 7) return NaN;
  return e === 0 ? sign * m * 2 ** -9 : sign * (1 + m / 8) * 2 ** (e - 7);
}

/**
 * Values as float32, whatever the stored dtype. F32 returns a view (shared with the file
 * buffer) when aligned; every other dtype is converted into a new array. F16 and BF16 are exact
 * (subnormals, ±inf and NaN included); 64-bit integers beyond 2^24 lose precision, as in torch.
 */
export function toFloat32(raw: RawTensor): Float32Array {
  const doing = `Converting a ${raw.dtype} tensor to float32`;
  assertLittleEndian(doing);
  checkSize(raw, doing);
  const n = numel(raw.shape);
  const b = raw.bytes;
  switch (raw.dtype) {
    case "F32": return view(b, Float32Array);
    case "F16": {
      const lut = f16Lut();
      const src = view(b, Uint16Array);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = lut[src[i]];
      return out;
    }
    case "BF16": {
      // bfloat16 is the top half of a float32: shifting the bits is exact for every value.
      const src = view(b, Uint16Array);
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
      return out;
    }
    case "F8_E5M2":
    case "F8_E4M3": {
      const out = new Float32Array(n);
      const e4m3 = raw.dtype === "F8_E4M3";
      for (let i = 0; i < n; i++) out[i] = f8Value(b[i], e4m3);
      return out;
    }
    case "F64": return Float32Array.from(view(b, Float64Array));
    case "I64": return Float32Array.from(view(b, BigInt64Array), Number);
    case "U64": return Float32Array.from(view(b, BigUint64Array), Number);
    case "I32": return Float32Array.from(view(b, Int32Array));
    case "U32": return Float32Array.from(view(b, Uint32Array));
    case "I16": return Float32Array.from(view(b, Int16Array));
    case "U16": return Float32Array.from(view(b, Uint16Array));
    case "I8": return Float32Array.from(view(b, Int8Array));
    case "U8": return Float32Array.from(b);
    case "BOOL": return Float32Array.from(b, (v) => (v ? 1 : 0));
  }
}

/**
 * As a whet NDArray: F32/F64/I64/BOOL keep their type (a view when aligned: writing into it
 * writes into the file buffer); F16, BF16 and F8 become float32; the other integers become int64.
 */
export function toNDArray(raw: RawTensor, name = "<tensor>"): NDArray {
  const doing = `Converting tensor "${name}" (${raw.dtype}) to an NDArray`;
  assertLittleEndian(doing);
  checkSize(raw, doing);
  const shape = [...raw.shape];
  const b = raw.bytes;
  switch (raw.dtype) {
    case "F32": case "F16": case "BF16": case "F8_E5M2": case "F8_E4M3":
      return { dtype: "float32", shape, data: toFloat32(raw) };
    case "F64": return { dtype: "float64", shape, data: view(b, Float64Array) };
    case "I64": return { dtype: "int64", shape, data: view(b, BigInt64Array) };
    case "BOOL": return { dtype: "bool", shape, data: Uint8Array.from(b, (v) => (v ? 1 : 0)) };
    case "U64": {
      const src = view(b, BigUint64Array);
      for (let i = 0; i < src.length; i++) {
        if (src[i] > 0x7fffffffffffffffn) throw new WhetError(`${doing}: element ${i} = ${src[i]} does not fit int64`);
      }
      return { dtype: "int64", shape, data: BigInt64Array.from(src, (v) => v) };
    }
    default: {
      const vals = toFloat32IntsExact(raw);
      return { dtype: "int64", shape, data: BigInt64Array.from(vals, (v) => BigInt(v)) };
    }
  }
}

// Integers of 32 bits or fewer, read exactly (float32 would round values beyond 2^24).
function toFloat32IntsExact(raw: RawTensor): ArrayLike<number> {
  const b = raw.bytes;
  switch (raw.dtype) {
    case "I32": return view(b, Int32Array);
    case "U32": return view(b, Uint32Array);
    case "I16": return view(b, Int16Array);
    case "U16": return view(b, Uint16Array);
    case "I8": return view(b, Int8Array);
    default: return b;
  }
}

/** NDArray → RawTensor (a view of its bytes, no copy). */
export function fromNDArray(a: NDArray): RawTensor {
  const d = a.data;
  return { dtype: ST_OF_WHET[a.dtype], shape: [...a.shape], bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half bits, round to nearest even; overflow → ±inf, NaN stays NaN. */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const m = x & 0x7fffff;
  const e = ((x >>> 23) & 0xff) - 127 + 15;
  if (e === 128 + 15) return sign | 0x7c00 | (m ? 0x200 | (m >>> 13) : 0);
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const mm = m | 0x800000; // restore the implicit bit, then shift into subnormal position
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mm & ((1 << shift) - 1);
    let r = mm >>> shift;
    if (rem > half || (rem === half && r & 1)) r++; // may carry into the smallest normal: correct
    return sign | r;
  }
  let r = (e << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++; // a carry into the exponent gives inf: correct
  return sign | r;
}

/** float32 → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
export function f32ToBf16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 values as F16 or BF16 bits, ready for the writer (`{dtype: "F16", data: bits}`). */
export function encodeHalf(values: ArrayLike<number>, dtype: "F16" | "BF16"): Uint16Array {
  const out = new Uint16Array(values.length);
  const enc = dtype === "F16" ? f32ToF16Bits : f32ToBf16Bits;
  for (let i = 0; i < values.length; i++) out[i] = enc(values[i]);
  return out;
}
