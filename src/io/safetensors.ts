/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__"?: {str: str}}`, then the byte buffer the offsets point into.
 *
 * The reader validates like the Rust crate the Python library wraps (`SafeTensors::read_metadata`):
 * tensors sorted by offset must tile the buffer exactly from 0 to its end — gaps, overlaps and
 * trailing bytes are errors there ("MetadataIncompleteBuffer", "InvalidOffset") and here. It is
 * stricter in one place: a key repeated in the JSON is an error (serde keeps the last one, so a
 * repeated tensor name silently hides a tensor). Nothing is read before its bounds are checked,
 * and nothing larger than the file is allocated.
 *
 * The writer reproduces the library's bytes: tensors sorted by dtype (enum order, descending)
 * then name (bytewise), compact JSON with `__metadata__` first, header padded with spaces to a
 * multiple of 8.
 *
 * @example
 *   const { tensors, metadata } = await readSafetensorsFile("model.safetensors");
 *   const w = toFloat32(tensors.get("bert.pooler.dense.weight")!);
 *   await writeSafetensorsFile("out.safetensors", tensors, { format: "pt" });
 */
import type { DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import { readWholeFile, writeFileAtomic } from "./files.js";
import { assertLittleEndian, dtypeRank, isStDType, itemSize, ST_OF_WHET, type RawTensor, type StDType } from "./raw_tensor.js";

export { toFloat32, toNDArray, fromNDArray, encodeHalf, type RawTensor, type StDType } from "./raw_tensor.js";

/** The Rust crate refuses larger headers (MAX_HEADER_SIZE). */
export const MAX_HEADER_SIZE = 100_000_000;

export interface SafetensorsContents {
  /** In file (offset) order. */
  tensors: Map<string, RawTensor>;
  /** `__metadata__`, or `{}` when the file has none. */
  metadata: Record<string, string>;
}

type Entry = { name: string; dtype: StDType; shape: number[]; begin: number; end: number };

/**
 * Parses a safetensors buffer; tensors are views into `bytes` (no copy).
 *
 * @example
 * const { tensors, metadata } = readSafetensors(readFileSync("model.safetensors"));
 * tensors.get("classifier.weight")?.shape; // [2, 256]; metadata.format: "pt"
 */
export function readSafetensors(bytes: Uint8Array, source = "<buffer>"): SafetensorsContents {
  const fail = (msg: string): never => {
    throw new WhetError(`Cannot read safetensors ${source}: ${msg}`);
  };
  if (bytes.byteLength < 8) fail(`the file has ${bytes.byteLength} bytes, fewer than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) fail(`header length ${n64} is larger than the ${MAX_HEADER_SIZE}-byte limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength) fail(`header length ${n} runs past the end of the ${bytes.byteLength}-byte file (truncated?)`);

  let text = "";
  try {
    // ignoreBOM keeps a byte-order mark in the text, so it fails JSON.parse as it fails serde.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail(`the ${n}-byte header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message}); it starts ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail(`the header must be a JSON object, got ${Array.isArray(header) ? "an array" : quote(header)}`);
  }
  const dup = findDuplicateKey(text);
  if (dup) fail(`the header repeats the key ${quote(dup.key)}${dup.within !== undefined ? ` inside ${quote(dup.within)}` : ""}`);

  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = checkMetadata(info, fail);
      continue;
    }
    entries.push(checkEntry(name, info, dataLen, fail));
  }

  // Sorted by offsets, the tensors must tile [0, dataLen) exactly, as the Rust crate requires.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: Entry | undefined;
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor ${quote(e.name)} at bytes [${e.begin}, ${e.end}) overlaps tensor ${quote(prev!.name)} at [${prev!.begin}, ${prev!.end})`);
    if (e.begin > cursor) fail(`tensor ${quote(e.name)} starts at byte ${e.begin}, leaving a gap of ${e.begin - cursor} bytes after ${prev ? `tensor ${quote(prev.name)}` : "the header"}`);
    cursor = e.end;
    prev = e;
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: bytes.subarray(dataStart + e.begin, dataStart + e.end) });
  }
  if (cursor !== dataLen) fail(`${dataLen - cursor} bytes follow the last tensor${prev ? ` (${quote(prev.name)})` : ""}: the tensors must cover the buffer exactly`);
  return { tensors, metadata };
}

/** A value for an error message, cut short: hostile headers can hold megabytes in one field. */
function quote(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function checkMetadata(info: unknown, fail: (m: string) => never): Record<string, string> {
  if (typeof info !== "object" || info === null || Array.isArray(info)) fail(`"__metadata__" must be an object of strings, got ${quote(info)}`);
  for (const [k, v] of Object.entries(info as object)) {
    if (typeof v !== "string") fail(`"__metadata__" values must be strings: "${k}" is ${quote(v)}`);
  }
  return Object.fromEntries(Object.entries(info as Record<string, string>));
}

function checkEntry(name: string, info: unknown, dataLen: number, fail: (m: string) => never): Entry {
  const where = `tensor ${quote(name)}`;
  if (typeof info !== "object" || info === null || Array.isArray(info)) fail(`${where}: expected {dtype, shape, data_offsets}, got ${quote(info)}`);
  const { dtype, shape, data_offsets: offs } = info as Record<string, unknown>;
  if (!isStDType(dtype)) fail(`${where}: unknown dtype ${quote(dtype)} (known: F64 F32 F16 BF16 F8_E4M3 F8_E5M2 I64 I32 I16 I8 U64 U32 U16 U8 BOOL)`);
  const d = dtype as StDType;
  const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) fail(`${where}: shape must be an array of non-negative integers, got ${quote(shape)}`);
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount)) fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${quote(offs)}`);
  const [begin, end] = offs as number[];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data buffer (truncated file?)`);
  // BigInt, so a hostile shape cannot overflow into a size that happens to match; the early
  // stop keeps a shape of a million huge dimensions from costing quadratic time.
  const dims = shape as number[];
  const span = BigInt(end - begin);
  let size = dims.includes(0) ? 0n : BigInt(itemSize(d));
  for (const x of dims) {
    if (size > span) break;
    size *= BigInt(x);
  }
  if (size !== span) {
    const needs = dims.length <= 64 ? `${dims.reduce((a, x) => a * BigInt(x), BigInt(itemSize(d)))}` : `more than ${span}`;
    fail(`${where}: ${d} [${dims.length <= 64 ? dims.join(", ") : `${dims.length} dimensions`}] needs ${needs} bytes, but data_offsets [${begin}, ${end}] span ${span}`);
  }
  return { name, dtype: d, shape: [...(shape as number[])], begin, end };
}

/**
 * The first key that occurs twice in one JSON object (JSON.parse keeps the last silently).
 * Runs on text that JSON.parse accepted, so it only needs to follow strings and nesting.
 */
function findDuplicateKey(text: string): { key: string; within?: string } | undefined {
  const stack: ({ keys: Set<string>; name?: string } | null)[] = [];
  let expectKey = false;
  let lastKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const top = stack[stack.length - 1]!;
        if (top.keys.has(key)) return { key, within: top.name };
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      const parent = stack[stack.length - 1];
      stack.push({ keys: new Set(), name: parent ? lastKey : undefined });
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d /* } ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}

/** Reads and validates a whole .safetensors file. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  return readSafetensors(await readWholeFile(path), path);
}

/** A tensor to write: a safetensors dtype or a whet dtype; `data` holds its little-endian bytes. */
export interface TensorToWrite {
  readonly dtype: StDType | DType;
  readonly shape: readonly number[];
  /** A typed array of the dtype's width (F16/BF16: Uint16Array bits), or raw bytes as Uint8Array. */
  readonly data?: ArrayBufferView;
  /** Raw little-endian bytes (what the readers return); used when `data` is absent. */
  readonly bytes?: Uint8Array;
}
export type TensorsToWrite =
  | readonly (TensorToWrite & { readonly name: string })[]
  | ReadonlyMap<string, TensorToWrite>;

/** Bytewise UTF-8 order (Rust's `String` order, Python's `str` order), not UTF-16 code units. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800–DFFF) stand for code points above FFFF: move them above E000–FFFF.
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** A validated tensor to write: its dtype resolved, its bytes viewed. */
export interface PreparedTensor { name: string; dtype: StDType; shape: number[]; bytes: Uint8Array }

/** Validates tensors to write (names, dtypes, byte counts), in input order; throws a WhetError. */
export function prepareTensors(tensors: TensorsToWrite, doing: string): PreparedTensor[] {
  assertLittleEndian(doing);
  type Named = TensorToWrite & { readonly name: string };
  const list: Named[] = tensors instanceof Map
    ? [...(tensors as ReadonlyMap<string, TensorToWrite>)].map(([name, t]) => ({ ...t, name }))
    : [...(tensors as readonly Named[])];
  const seen = new Set<string>();
  const out: PreparedTensor[] = [];
  for (const t of list) {
    const where = `${doing}: tensor "${t.name}"`;
    if (typeof t.name !== "string") throw new WhetError(`${doing}: tensor names must be strings, got ${JSON.stringify(t.name)}`);
    if (t.name === "__metadata__") throw new WhetError(`${where}: the name is reserved for the metadata`);
    if (seen.has(t.name)) throw new WhetError(`${where}: the name appears twice`);
    seen.add(t.name);
    const dtype = isStDType(t.dtype) ? t.dtype : ST_OF_WHET[t.dtype as DType];
    if (!dtype) throw new WhetError(`${where}: unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new WhetError(`${where}: shape must hold non-negative integers, got [${t.shape.join(", ")}]`);
    const src = t.data ?? t.bytes;
    if (!src) throw new WhetError(`${where}: neither data nor bytes given`);
    const width = (src as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    if (width !== 1 && width !== itemSize(dtype)) {
      throw new WhetError(`${where}: ${src.constructor.name} holds ${width}-byte elements, but ${dtype} needs ${itemSize(dtype)}-byte ones`);
    }
    const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    const want = t.shape.reduce((a, b) => a * b, itemSize(dtype));
    if (bytes.byteLength !== want) throw new WhetError(`${where}: ${dtype} [${t.shape.join(", ")}] needs ${want} bytes, got ${bytes.byteLength}`);
    out.push({ name: t.name, dtype, shape: [...t.shape], bytes });
  }
  return out;
}

/** The 8-byte length plus the padded header, and the tensors in file order. */
function encode(tensors: TensorsToWrite, metadata: Record<string, string> | undefined, doing: string): { head: Uint8Array; parts: Uint8Array[] } {
  // The order of the Rust crate's `prepare`: dtype (enum order) descending, then name.
  const list = prepareTensors(tensors, doing).sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(a.name, b.name));
  // Built by hand rather than from an object, so a tensor named "__proto__" stays a plain key.
  const fields: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new WhetError(`${doing}: metadata values must be strings: "${k}" is ${JSON.stringify(v)}`);
    }
    fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const t of list) {
    const info = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    fields.push(`${JSON.stringify(t.name)}:${JSON.stringify(info)}`);
    offset += t.bytes.byteLength;
  }
  const json = new TextEncoder().encode(`{${fields.join(",")}}`);
  const n = Math.ceil(json.byteLength / 8) * 8; // padding keeps every tensor aligned to its item size
  if (n > MAX_HEADER_SIZE) throw new WhetError(`${doing}: the header would take ${n} bytes, beyond the ${MAX_HEADER_SIZE}-byte limit readers enforce`);
  const head = new Uint8Array(8 + n).fill(0x20, 8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(json, 8);
  return { head, parts: list.map((t) => t.bytes) };
}

/**
 * Serializes tensors into safetensors bytes, laid out as the Python library lays them out.
 * `metadata` becomes `__metadata__`; an empty or absent one is omitted (transformers writes
 * `{format: "pt"}` and its loader wants it, so pass that for Hub checkpoints).
 *
 * @example
 * const w = { name: "w", dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } as const;
 * const bytes = writeSafetensors([w], { format: "pt" });
 */
export function writeSafetensors(tensors: TensorsToWrite, metadata?: Record<string, string>): Uint8Array {
  const { head, parts } = encode(tensors, metadata, "Writing safetensors");
  const out = new Uint8Array(head.byteLength + parts.reduce((a, p) => a + p.byteLength, 0));
  out.set(head, 0);
  let pos = head.byteLength;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}

/** Writes a .safetensors file atomically, streaming the tensors (no second copy in memory). */
export async function writeSafetensorsFile(path: string, tensors: TensorsToWrite, metadata?: Record<string, string>): Promise<void> {
  const { head, parts } = encode(tensors, metadata, `Writing safetensors ${path}`);
  await writeFileAtomic(path, [head, ...parts]);
}
