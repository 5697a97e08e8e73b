import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { WhetError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { Rng } from "../core/rng.js";
import { f32ToBf16Bits, f32ToF16Bits } from "./raw_tensor.js";
import {
  compareCodePoints, encodeHalf, readSafetensors, type TensorToWrite, readSafetensorsFile, toFloat32, toNDArray, writeSafetensors, writeSafetensorsFile,
} from "./safetensors.js";

// dist/io/x.test.js → repository root → ../shared (a sibling of the checkout).
const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
const BERT = join(SHARED, "fixtures/hf/bert-seq/model.safetensors");

/** A file from a header object and a data buffer, for hand-made (often broken) inputs. */
function rawFile(header: unknown, data: Uint8Array | number = 0, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const d = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + d.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(d, 8 + json.length);
  return out;
}

const bytesOf = (text: string) => Array.from(new TextEncoder().encode(text));

test("safetensors: the bytes the Rust crate's own tests expect", () => {
  // safetensors/src/tensor.rs test_serialization, test_empty, test_serialization_forced_alignement.
  const data = new Float32Array([0, 1, 2, 3, 4, 5]);
  const json = `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`;
  assert.deepEqual(Array.from(writeSafetensors([{ name: "attn.0", dtype: "F32", shape: [1, 2, 3], data }])),
    [64, 0, 0, 0, 0, 0, 0, 0, ...bytesOf(json), ...new Uint8Array(data.buffer)]);
  assert.deepEqual(Array.from(writeSafetensors([])), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  assert.deepEqual(Array.from(writeSafetensors([], { framework: "pt" })),
    [40, 0, 0, 0, 0, 0, 0, 0, ...bytesOf(`{"__metadata__":{"framework":"pt"}}`), 32, 32, 32, 32, 32]);
  const aligned = writeSafetensors([{ name: "attn0", dtype: "F32", shape: [1, 1, 2, 3], data }]);
  assert.deepEqual(Array.from(aligned.subarray(0, 8)), [72, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(aligned.subarray(8 + 65, 8 + 72)), [32, 32, 32, 32, 32, 32, 32]);
});

test("safetensors: the writer orders by dtype (Rust enum order, descending) then bytewise name", () => {
  const t = (name: string, dtype: "F32" | "I64" | "F16" | "BOOL" | "F64" | "BF16" | "U8") => ({ name, dtype, shape: [0], data: new Uint8Array(0) });
  const file = writeSafetensors([t("b", "F32"), t("mask", "BOOL"), t("a", "F32"), t("h", "F16"), t("ids", "I64"), t("d", "F64"), t("bf", "BF16"), t("u", "U8")]);
  assert.deepEqual([...readSafetensors(file).tensors.keys()], ["ids", "d", "a", "b", "bf", "h", "u", "mask"]);
  // UTF-8 order puts U+1F600 after U+FF5E; UTF-16 code units would not.
  assert.ok(compareCodePoints("\u{1F600}", "\uFF5E") > 0 && "\u{1F600}" < "\uFF5E");
  const names = [...readSafetensors(writeSafetensors([t("\u{1F600}", "F32"), t("\uFF5E", "F32"), t("Z", "F32")])).tensors.keys()];
  assert.deepEqual(names, ["Z", "\uFF5E", "\u{1F600}"]);
});

test("safetensors: round trip of every kind of input, values intact", () => {
  const half = encodeHalf([1, -2.5, 65504, 2 ** -24], "F16");
  const bf = encodeHalf([1, -3, 1e-40, Infinity], "BF16");
  const file = writeSafetensors(new Map<string, TensorToWrite>([
    ["w", ndarray("float32", [2, 2], [1, 2, 3, 4.5])],
    ["ids", ndarray("int64", [3], [0n, -1n, 2n ** 40n])],
    ["mask", ndarray("bool", [2], [1, 0])],
    ["d", ndarray("float64", [1], [Math.PI])],
    ["h", { dtype: "F16", shape: [4], data: half }],
    ["b", { dtype: "BF16", shape: [2, 2], data: bf }],
    ["i8", { dtype: "I8", shape: [2], data: new Int8Array([-128, 127]) }],
    ["u16", { dtype: "U16", shape: [1], data: new Uint16Array([65535]) }],
  ]), { format: "pt" });
  const { tensors, metadata } = readSafetensors(file);
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(Array.from(toFloat32(tensors.get("w")!)), [1, 2, 3, 4.5]);
  assert.deepEqual(toNDArray(tensors.get("ids")!).data, new BigInt64Array([0n, -1n, 2n ** 40n]));
  assert.deepEqual(toNDArray(tensors.get("mask")!), { dtype: "bool", shape: [2], data: new Uint8Array([1, 0]) });
  assert.deepEqual(toNDArray(tensors.get("d")!).data, new Float64Array([Math.PI]));
  assert.deepEqual(Array.from(toFloat32(tensors.get("h")!)), [1, -2.5, 65504, 2 ** -24]);
  assert.deepEqual(Array.from(toFloat32(tensors.get("b")!)), [1, -3, Math.fround(f32BitsOfBf16(1e-40)), Infinity]);
  assert.deepEqual(toNDArray(tensors.get("i8")!), { dtype: "int64", shape: [2], data: new BigInt64Array([-128n, 127n]) });
  assert.deepEqual(Array.from(toFloat32(tensors.get("u16")!)), [65535]);
  // Writing what was read gives the same bytes.
  assert.deepEqual(writeSafetensors(tensors, metadata), file);
});

function f32BitsOfBf16(v: number): number {
  const u = new Uint32Array([f32ToBf16Bits(v) << 16]);
  return new Float32Array(u.buffer)[0];
}

test("safetensors: F16 and BF16 decode and encode exactly, subnormals, infinities and NaN included", () => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const f16 = toFloat32({ dtype: "F16", shape: [65536], bytes: new Uint8Array(bits.buffer) });
  const bf16 = toFloat32({ dtype: "BF16", shape: [65536], bytes: new Uint8Array(bits.buffer) });
  for (let i = 0; i < 65536; i++) {
    const e = (i >> 10) & 0x1f;
    if (e === 31 && i & 0x3ff) assert.ok(Number.isNaN(f16[i]), `f16 ${i} is NaN`);
    else assert.equal(f32ToF16Bits(f16[i]), i, `f16 bits ${i.toString(16)} → ${f16[i]} → back`);
    if ((i & 0x7f80) === 0x7f80 && i & 0x7f) assert.ok(Number.isNaN(bf16[i]));
    else assert.equal(f32ToBf16Bits(bf16[i]), i, `bf16 bits ${i.toString(16)}`);
  }
  assert.equal(f16[1], 2 ** -24);
  assert.equal(f16[0x3ff], 1023 * 2 ** -24); // largest subnormal
  assert.equal(f16[0x7bff], 65504);
  assert.equal(f16[0xfc00], -Infinity);
  assert.ok(Object.is(f16[0x8000], -0));
  // Round to nearest, ties to even; overflow to infinity; underflow to zero.
  assert.equal(f32ToF16Bits(65519), 0x7bff);
  assert.equal(f32ToF16Bits(65520), 0x7c00);
  assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00);
  assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(f32ToF16Bits(2 ** -25), 0);
  assert.equal(f32ToF16Bits(Math.fround(2 ** -25 * 1.5)), 1);
  assert.equal(f32ToF16Bits(3 * 2 ** -25), 2); // subnormal tie rounds to even
  assert.equal(f32ToF16Bits(Math.fround(1023.5 * 2 ** -24)), 0x400); // carries into the smallest normal
  assert.equal(f32ToF16Bits(-1e-30), 0x8000);
  assert.ok(Number.isNaN(f16[f32ToF16Bits(NaN)]));
  assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80);
  assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(f32ToBf16Bits(3.4e38), 0x7f80); // rounds past the largest bfloat16 to infinity
});

test("safetensors: F8 decoding", () => {
  const e4 = toFloat32({ dtype: "F8_E4M3", shape: [5], bytes: new Uint8Array([0x38, 0x7e, 0x7f, 0x01, 0xb8]) });
  assert.deepEqual(Array.from(e4).slice(0, 2), [1, 448]);
  assert.ok(Number.isNaN(e4[2]));
  assert.deepEqual([e4[3], e4[4]], [2 ** -9, -1]);
  const e5 = toFloat32({ dtype: "F8_E5M2", shape: [3], bytes: new Uint8Array([0x3c, 0x7c, 0x01]) });
  assert.deepEqual(Array.from(e5), [1, Infinity, 2 ** -16]);
});

test("safetensors: misaligned views are copied, aligned F32 views share the buffer", () => {
  const file = writeSafetensors([{ name: "w", dtype: "F32", shape: [2], data: new Float32Array([1.5, -2]) }]);
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  const raw = readSafetensors(shifted.subarray(1)).tensors.get("w")!;
  assert.equal(raw.bytes.byteOffset % 4, 1);
  assert.deepEqual(Array.from(toFloat32(raw)), [1.5, -2]);
  const aligned = toFloat32(readSafetensors(file).tensors.get("w")!);
  assert.equal(aligned.buffer, file.buffer);
});

const good = { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "I8", shape: [3], data_offsets: [8, 11] } };

const malformed: [string, Uint8Array, RegExp][] = [
  ["fewer than 8 bytes", new Uint8Array(5), /5 bytes, fewer than the 8-byte header length/],
  ["an absurd header length", (() => { const b = new Uint8Array(16); b[7] = 1; return b; })(), /header length 72057594037927936 is larger than the 100000000-byte limit/],
  ["a header past the end", rawFile(good, 11).subarray(0, 30), /header length \d+ runs past the end of the 30-byte file/],
  ["invalid UTF-8", rawFile(null, 0, "{\"\xff\":1}").map((b, i) => (i === 10 ? 0xff : b)), /not valid UTF-8/],
  ["a byte-order mark", rawFile(null, 0, "\uFEFF{}"), /not valid JSON/],
  ["not JSON", rawFile(null, 0, "{nope"), /not valid JSON/],
  ["not an object", rawFile([1, 2]), /must be a JSON object, got an array/],
  ["an unknown dtype", rawFile({ a: { dtype: "F128", shape: [], data_offsets: [0, 16] } }, 16), /tensor "a": unknown dtype "F128"/],
  ["a negative dimension", rawFile({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }), /tensor "a": shape must be an array of non-negative integers, got \[-1\]/],
  ["a fractional dimension", rawFile({ a: { dtype: "F32", shape: [1.5], data_offsets: [0, 6] } }, 6), /shape must be/],
  ["an unsafe dimension", rawFile({ a: { dtype: "F32", shape: [2 ** 60], data_offsets: [0, 4] } }, 4), /shape must be/],
  ["offsets of three numbers", rawFile({ a: { dtype: "U8", shape: [1], data_offsets: [0, 1, 2] } }, 1), /data_offsets must be \[begin, end\]/],
  ["offsets backwards", rawFile({ a: { dtype: "U8", shape: [1], data_offsets: [1, 0] } }, 1), /\[1, 0\] end before they begin/],
  ["a size mismatch", rawFile({ a: { dtype: "F32", shape: [2, 3], data_offsets: [0, 20] } }, 20), /F32 \[2, 3\] needs 24 bytes, but data_offsets \[0, 20\] span 20/],
  ["a size that overflows", rawFile({ a: { dtype: "F64", shape: [2 ** 40, 2 ** 40, 2 ** 40, 1], data_offsets: [0, 8] } }, 8), /needs \d+ bytes/],
  ["offsets out of range", rawFile({ a: { dtype: "U8", shape: [20], data_offsets: [0, 20] } }, 8), /\[0, 20\] run past the 8-byte data buffer/],
  ["overlapping tensors", rawFile({ a: { dtype: "U8", shape: [4], data_offsets: [0, 4] }, b: { dtype: "U8", shape: [2], data_offsets: [2, 4] } }, 4), /tensor "b" at bytes \[2, 4\) overlaps tensor "a" at \[0, 4\)/],
  ["a gap", rawFile({ a: { dtype: "U8", shape: [2], data_offsets: [0, 2] }, b: { dtype: "U8", shape: [2], data_offsets: [3, 5] } }, 5), /tensor "b" starts at byte 3, leaving a gap of 1 bytes after tensor "a"/],
  ["a first tensor not at 0", rawFile({ a: { dtype: "U8", shape: [2], data_offsets: [2, 4] } }, 4), /gap of 2 bytes after the header/],
  ["trailing bytes", rawFile(good, 13), /2 bytes follow the last tensor \("b"\)/],
  ["a repeated tensor name", rawFile(null, 11, `{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"a":{"dtype":"I8","shape":[3],"data_offsets":[8,11]}}`), /repeats the key "a"/],
  ["a repeated field", rawFile(null, 1, `{"a":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}`), /repeats the key "dtype" inside "a"/],
  ["non-string metadata", rawFile({ __metadata__: { epoch: 3 } }), /"__metadata__" values must be strings: "epoch" is 3/],
  ["a tensor that is not an object", rawFile({ a: [1] }), /tensor "a": expected \{dtype, shape, data_offsets\}, got \[1\]/],
];

for (const [what, bytes, message] of malformed) {
  test(`safetensors: ${what} is a WhetError naming the file`, () => {
    assert.throws(() => readSafetensors(bytes, "bad.safetensors"), (e: unknown) => {
      assert.ok(e instanceof WhetError, `a WhetError, got ${String(e)}`);
      assert.match(e.message, /^Cannot read safetensors bad\.safetensors: /);
      assert.match(e.message, message);
      return true;
    });
  });
}

test("safetensors: zero-size tensors, escaped names and an empty file are valid", () => {
  const file = rawFile({ "z\u0001\"": { dtype: "F32", shape: [0, 3], data_offsets: [0, 0] }, y: { dtype: "U8", shape: [], data_offsets: [0, 1] } }, 1);
  const { tensors } = readSafetensors(file);
  assert.deepEqual(tensors.get("z\u0001\"")!.shape, [0, 3]);
  assert.deepEqual(Array.from(tensors.get("y")!.bytes), [0]);
  assert.equal(readSafetensors(rawFile({})).tensors.size, 0);
});

test("safetensors: fuzzed files are read or rejected with a WhetError, never anything else", () => {
  const rng = new Rng(7, 11);
  const base = writeSafetensors([
    { name: "a.weight", dtype: "F32", shape: [3, 2], data: new Float32Array(6).fill(1) },
    { name: "ids", dtype: "I64", shape: [2], data: new BigInt64Array([1n, 2n]) },
    { name: "h", dtype: "F16", shape: [3], data: encodeHalf([1, 2, 3], "F16") },
  ], { format: "pt" });
  let accepted = 0;
  for (let iter = 0; iter < 3000; iter++) {
    let bytes = base.slice();
    if (rng.int(4) === 0) bytes = bytes.subarray(0, rng.int(bytes.length));
    const flips = 1 + rng.int(3);
    for (let k = 0; k < flips && bytes.length > 0; k++) {
      // Most flips hit the length and the header, where the parsing is.
      const at = rng.int(3) === 0 ? rng.int(bytes.length) : rng.int(Math.min(bytes.length, 8 + 200));
      bytes[at] = rng.int(3) === 0 ? rng.nextU32() & 0xff : bytes[at] ^ (1 << rng.int(8));
    }
    try {
      const { tensors } = readSafetensors(bytes, "fuzz");
      for (const [name, raw] of tensors) toNDArray(raw, name);
      accepted++;
    } catch (e) {
      if (!(e instanceof WhetError)) assert.fail(`iteration ${iter}: ${String(e)}`);
    }
  }
  assert.ok(accepted > 0 && accepted < 3000, `some fuzzed files parse (flips in tensor data), most do not: ${accepted}`);
});

test("safetensors: files are written atomically and read back", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-st-"));
  try {
    const path = join(dir, "model.safetensors");
    await writeSafetensorsFile(path, [{ name: "w", dtype: "float32", shape: [2], data: new Float32Array([1, 2]) }], { format: "pt" });
    const { tensors } = await readSafetensorsFile(path);
    assert.deepEqual(Array.from(toFloat32(tensors.get("w")!)), [1, 2]);
    // A failing write leaves the previous file whole and no temporary file behind.
    await assert.rejects(writeSafetensorsFile(path, [{ name: "w", dtype: "F32", shape: [3], data: new Float32Array(2) }]), /needs 12 bytes, got 8/);
    await assert.rejects(writeSafetensorsFile(join(dir, "missing", "x.safetensors"), []), /ENOENT/);
    assert.deepEqual(await readdir(dir), ["model.safetensors"]);
    await writeFile(join(dir, "bad.safetensors"), new Uint8Array(3));
    await assert.rejects(readSafetensorsFile(join(dir, "bad.safetensors")), /Cannot read safetensors .*bad\.safetensors: the file has 3 bytes/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("safetensors: a file written by the Python library round-trips byte for byte", async (t) => {
  if (!existsSync(BERT)) return t.skip(`${BERT} is absent (../shared is not checked out beside the repository)`);
  const original = new Uint8Array(await readFile(BERT));
  const { tensors, metadata } = readSafetensors(original, BERT);
  assert.deepEqual(metadata, { format: "pt" });
  assert.equal(tensors.get("bert.embeddings.position_ids")!.dtype, "I64");
  assert.deepEqual(tensors.get("bert.embeddings.word_embeddings.weight")!.shape, [1000, 32]);
  const again = writeSafetensors(tensors, metadata);
  assert.equal(again.length, original.length);
  assert.ok(Buffer.from(again).equals(original), "same header, same order, same bytes");
});
