import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { toFloat32, toNDArray } from "./raw_tensor.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";
import { readTorchBin, readTorchBinFile } from "./torch_bin.js";
import { storedZip } from "../testing/zip_testing.js";

const url = (name: string) => new URL(`../../fixtures/io/${name}`, import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(url(name)));
type Expected = Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
const expected: Expected = JSON.parse(readFileSync(url("state_dict.json"), "utf8"));
const ST: Record<string, string> = { float32: "F32", float16: "F16", bfloat16: "BF16", int64: "I64", bool: "BOOL", float64: "F64" };

function checkAgainstTorch(tensors: Map<string, { dtype: string; shape: readonly number[]; bytes: Uint8Array }>) {
  assert.deepEqual([...tensors.keys()], Object.keys(expected), "state dict order");
  for (const [name, want] of Object.entries(expected)) {
    const raw = tensors.get(name) as Parameters<typeof toFloat32>[0];
    assert.equal(raw.dtype, ST[want.dtype], `${name} dtype`);
    assert.deepEqual(raw.shape, want.shape, `${name} shape`);
    if (raw.dtype === "I64") {
      assert.deepEqual(Array.from(toNDArray(raw).data as BigInt64Array, String), want.values, name);
      continue;
    }
    const got = Array.from(toFloat32(raw), (v) => (Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : v));
    const bool = raw.dtype === "BOOL";
    assert.deepEqual(got, want.values.map((v) => (bool ? Number(v) : typeof v === "number" ? Math.fround(v) : v)), name);
  }
}

test("torch_bin: a real torch.save state dict reads exactly, with views and copies where due", () => {
  const bytes = fixture("state_dict.bin");
  const { tensors } = readTorchBin(bytes, "state_dict.bin");
  checkAgainstTorch(tensors);
  // Contiguous tensors (an offset slice, a view sharing one storage) are views into the file.
  for (const name of ["weight", "slice", "shared_a", "half"]) assert.equal(tensors.get(name)!.bytes.buffer, bytes.buffer, name);
  assert.notEqual(tensors.get("transposed")!.bytes.buffer, bytes.buffer, "a strided view is copied out");
});

test("torch_bin: the same archive re-zipped with DEFLATE reads the same", async () => {
  checkAgainstTorch((await readTorchBinFile(url("deflated.bin").pathname)).tensors);
});

test("torch_bin: a state dict converts to safetensors and back", () => {
  const { tensors } = readTorchBin(fixture("state_dict.bin"));
  const again = readSafetensors(writeSafetensors(tensors, { format: "pt" })).tensors;
  for (const [name, raw] of tensors) assert.deepEqual(again.get(name)!.bytes, raw.bytes, name);
});

test("torch_bin: a pickle that calls os.system is refused, and nothing runs", () => {
  assert.throws(() => readTorchBin(fixture("malicious.bin"), "malicious.bin"), (e: unknown) => {
    assert.ok(e instanceof WhetError);
    assert.match(e.message, /^Cannot read PyTorch checkpoint malicious\.bin: data\.pkl refers to posix\.system, which is not allowed/);
    return true;
  });
  assert.ok(!existsSync("/tmp/whet_pwned"));
});

test("torch_bin: the legacy format and non-zip files are refused with the conversion command", () => {
  assert.throws(() => readTorchBin(fixture("legacy.bin"), "legacy.bin"), /legacy \(torch < 1\.6\) format.*save_file\(/);
  assert.throws(() => readTorchBin(new TextEncoder().encode("hello"), "x.bin"), /not a torch\.save zip archive.*weights_only=True/);
});

// A tiny pickle assembler, so each test can state the exact opcodes it feeds the reader.
const enc = new TextEncoder();
const u32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const P = {
  proto: [0x80, 2], stop: [0x2e], mark: [0x28], dict: [0x7d], tuple: [0x74], emptyTuple: [0x29], reduce: [0x52],
  setitem: [0x73], setitems: [0x75], persid: [0x51], false: [0x89], build: [0x62],
  str: (s: string) => [0x58, ...u32(enc.encode(s).length), ...enc.encode(s)],
  int: (n: number) => [0x4a, ...u32(n)],
  global: (m: string, n: string) => [0x63, ...enc.encode(`${m}\n${n}\n`)],
  put: (i: number) => [0x71, i], get: (i: number) => [0x68, i],
  tuple1: [0x85],
};
const ints = (xs: number[]) => [...P.mark, ...xs.flatMap(P.int), ...P.tuple];
/** `_rebuild_tensor_v2(storage(key, type, numel), offset, size, stride, False, OrderedDict())` */
function tensor(key: string, numel: number, offset: number, size: number[], stride: number[], type = "FloatStorage"): number[] {
  return [
    ...P.global("torch._utils", "_rebuild_tensor_v2"), ...P.mark,
    ...P.mark, ...P.str("storage"), ...P.global("torch", type), ...P.str(key), ...P.str("cpu"), ...P.int(numel), ...P.tuple, ...P.persid,
    ...P.int(offset), ...ints(size), ...ints(stride), ...P.false,
    ...P.global("collections", "OrderedDict"), ...P.emptyTuple, ...P.reduce, ...P.tuple, ...P.reduce,
  ];
}
const stateDict = (entries: [string, number[]][]) => [...P.proto, ...P.dict, ...P.mark, ...entries.flatMap(([k, v]) => [...P.str(k), ...v]), ...P.setitems, ...P.stop];
const archive = (pkl: number[], storages: Record<string, Uint8Array> = { 0: new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer) }, extra = {}) =>
  storedZip({ "m/data.pkl": new Uint8Array(pkl), ...Object.fromEntries(Object.entries(storages).map(([k, v]) => [`m/data/${k}`, v])), "m/version": "3\n", ...extra });
const read = (zip: Uint8Array) => readTorchBin(zip, "m.bin");

test("torch_bin: hand-made pickles: strided, expanded, offset views", () => {
  const { tensors } = read(archive(stateDict([
    ["t", tensor("0", 6, 0, [3, 2], [1, 3])],
    ["e", tensor("0", 6, 5, [2, 2], [0, 0])],
    ["s", tensor("0", 6, 2, [2], [1])],
  ])));
  assert.deepEqual(Array.from(toFloat32(tensors.get("t")!)), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(Array.from(toFloat32(tensors.get("e")!)), [6, 6, 6, 6]);
  assert.deepEqual(Array.from(toFloat32(tensors.get("s")!)), [3, 4]);
});

const hostile: [string, Uint8Array, RegExp][] = [
  ["a global outside the allow-list", archive([...P.proto, ...P.global("builtins", "eval"), ...P.str("1"), ...P.tuple1, ...P.reduce, ...P.stop]), /builtins\.eval, which is not allowed.*not executed/],
  ["STACK_GLOBAL of os.system", archive([...P.proto, ...P.str("os"), ...P.str("system"), 0x93, ...P.stop]), /os\.system, which is not allowed/],
  ["an opcode outside the subset (INST)", archive([...P.proto, 0x69, ...enc.encode("os\nsystem\n"), ...P.stop]), /opcode 0x69 at byte 2.*nothing was executed/],
  ["calling a storage class", archive([...P.proto, ...P.global("torch", "FloatStorage"), ...P.emptyTuple, ...P.reduce, ...P.stop]), /calling torch\.FloatStorage is not allowed/],
  ["BUILD on a tensor", archive([...P.proto, ...tensor("0", 6, 0, [6], [1]), ...P.dict, ...P.build, ...P.stop]), /BUILD of a F32 tensor \[6\] with a dict of 0 entries is not allowed/],
  ["a memo read before its write", archive([...P.proto, ...P.get(5), ...P.stop]), /memo entry 5 is read before it is written/],
  ["a truncated pickle", archive([...P.proto, ...P.dict]), /data\.pkl ends unexpectedly at byte 3/],
  ["a stack underflow", archive([...P.proto, ...P.setitem, ...P.stop]), /pops an empty stack/],
  ["a view past its storage", archive(stateDict([["t", tensor("0", 6, 4, [3], [1])]])), /reaches element 6 of storage "0", which has 6/],
  ["a missing storage record", archive(stateDict([["t", tensor("7", 6, 0, [6], [1])]])), /storage "7" has no record "m\/data\/7"/],
  ["a storage record too small", archive(stateDict([["t", tensor("0", 7, 0, [6], [1])]])), /needs 7 elements = 28 bytes, but "m\/data\/0" holds 24/],
  ["an expanded view larger than the file", archive(stateDict([["t", tensor("0", 6, 0, [1e6, 1e3], [0, 0])]])), /more memory than the file/],
  ["an unsupported storage type", archive(stateDict([["t", tensor("0", 6, 0, [6], [1], "ComplexFloatStorage")]])), /torch\.ComplexFloatStorage, which is not allowed/],
  ["a non-tensor entry", archive(stateDict([["step", P.int(3)]])), /entry "step" is 3, not a tensor/],
  ["a top level that is not a dict", archive([...P.proto, ...P.int(3), ...P.stop]), /expected a state dict at the top level, found 3/],
  ["a bad persistent id", archive([...P.proto, ...P.str("x"), ...P.persid, ...P.stop]), /unexpected persistent id "x"/],
  ["two pickles", archive(stateDict([]), undefined, { "n/data.pkl": new Uint8Array(stateDict([])) }), /expected one <archive>\/data\.pkl entry, found m\/data\.pkl, n\/data\.pkl/],
  ["big-endian storages", archive(stateDict([]), undefined, { "m/byteorder": "big" }), /stores "big"-endian storages/],
];

for (const [what, zip, message] of hostile) {
  test(`torch_bin: ${what} is a WhetError`, () => {
    assert.throws(() => read(zip), (e: unknown) => {
      assert.ok(e instanceof WhetError, `a WhetError, got ${String(e)}`);
      assert.match(e.message, /^Cannot read PyTorch checkpoint m\.bin: /);
      assert.match(e.message, message);
      return true;
    });
  });
}

test("torch_bin: fuzzed archives are read or rejected with a WhetError, never anything else", () => {
  const base = fixture("state_dict.bin");
  const rng = new Rng(13, 17);
  for (let iter = 0; iter < 2000; iter++) {
    let bytes = base.slice();
    if (rng.int(5) === 0) bytes = bytes.subarray(0, rng.int(bytes.length));
    for (let k = 0; k < 1 + rng.int(3) && bytes.length; k++) {
      // data.pkl starts at byte 64 (torch aligns records) and ends near 1,100: aim there most.
      const at = rng.int(3) ? 64 + rng.int(1100) : rng.int(bytes.length);
      if (at < bytes.length) bytes[at] = rng.int(2) ? bytes[at] ^ (1 << rng.int(8)) : rng.int(256);
    }
    try {
      for (const raw of readTorchBin(bytes, "fuzz").tensors.values()) toFloat32(raw);
    } catch (e) {
      if (!(e instanceof WhetError)) assert.fail(`iteration ${iter}: ${String(e)}`);
    }
  }
});
