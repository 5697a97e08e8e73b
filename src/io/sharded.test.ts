import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { WhetError } from "../core/errors.js";
import { toFloat32, toNDArray } from "./raw_tensor.js";
import { writeSafetensorsFile, type TensorToWrite } from "./safetensors.js";
import { parseSize, planShards, readModelWeights, readShardedCheckpoint, writeShardedSafetensors } from "./sharded.js";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "whet-shard-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true });
  }
}

const i64 = (v: number) => ({ dtype: "I64" as const, shape: [1], data: new BigInt64Array([BigInt(v)]) });
// huggingface_hub's test state dict: five one-element int64 tensors (8 bytes each).
const layers = new Map([1, 2, 3, 4, 5].map((i) => [`layer_${i}`, i64(i * 10)]));

test("sharded: shards are planned as huggingface_hub plans them", () => {
  // tests/test_serialization.py test_multiple_shards: sizes [6, 10, 30, 2, 2], limit 10.
  const sizes = [6, 10, 30, 2, 2].map((nbytes, i) => ({ name: `layer_${i + 1}`, nbytes }));
  assert.deepEqual(planShards(sizes, 10), [["layer_1"], ["layer_3"], ["layer_2"], ["layer_4", "layer_5"]]);
  assert.deepEqual(planShards(sizes, 100), [["layer_1", "layer_2", "layer_3", "layer_4", "layer_5"]]);
  assert.deepEqual(planShards([], 10), [[]]);
});

test("sharded: sizes parse like transformers' convert_file_size_to_int", () => {
  assert.equal(parseSize("5GB"), 5e9);
  assert.equal(parseSize(" 10 KB "), 10_000);
  assert.equal(parseSize("20mb"), 20e6);
  assert.equal(parseSize("2GiB"), 2 * 2 ** 30);
  assert.equal(parseSize(1234), 1234);
  assert.throws(() => parseSize("1ooKB"), /"1ooKB" is not a size: use e\.g\. "5GB"/);
  assert.throws(() => parseSize(0), /positive whole number of bytes, got 0/);
});

test("sharded: the files and the index are what transformers writes, and read back", () => withDir(async (dir) => {
  const { files, index } = await writeShardedSafetensors(dir, layers, { maxShardSize: 30 });
  assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
  const text = await readFile(index!, "utf8");
  const one = "model-00001-of-00002.safetensors";
  const two = "model-00002-of-00002.safetensors";
  assert.equal(text, `{\n  "metadata": {\n    "total_size": 40\n  },\n  "weight_map": {\n    "layer_1": "${one}",\n    "layer_2": "${one}",\n` +
    `    "layer_3": "${one}",\n    "layer_4": "${two}",\n    "layer_5": "${two}"\n  }\n}\n`);
  const read = await readShardedCheckpoint(index!);
  assert.deepEqual(read.shards, [one, two]);
  assert.deepEqual(read.metadata, { total_size: 40 });
  assert.deepEqual([...read.tensors.keys()], ["layer_1", "layer_2", "layer_3", "layer_4", "layer_5"]);
  assert.deepEqual(toNDArray(read.tensors.get("layer_4")!).data, new BigInt64Array([40n]));
  const weights = await readModelWeights(dir);
  assert.equal(weights.file, index);
  assert.equal(weights.tensors.size, 5);
}));

test("sharded: the index sorts keys by code point and escapes non-ASCII as Python does", () => withDir(async (dir) => {
  const tensors = new Map([["\u{1F600}", i64(1)], ["é", i64(2)], ["10", i64(3)], ["9", i64(4)], ["__proto__", i64(5)]]);
  const { index } = await writeShardedSafetensors(dir, tensors, { maxShardSize: 8 });
  const text = await readFile(index!, "utf8");
  const keys = [...text.matchAll(/^ {4}"(.*)": "model-/gm)].map((m) => m[1]);
  assert.deepEqual(keys, ["10", "9", "__proto__", "\\u00e9", "\\ud83d\\ude00"]);
  assert.equal((await readShardedCheckpoint(index!)).tensors.size, 5);
}));

test("sharded: saving again removes the shards and index that no longer belong, nothing else", () => withDir(async (dir) => {
  await writeFile(join(dir, "config.json"), "{}");
  await writeFile(join(dir, "model-extra.safetensors"), "");
  await writeShardedSafetensors(dir, layers, { maxShardSize: 8 });
  assert.equal((await readdir(dir)).filter((f) => f.includes("-of-00005")).length, 5);
  await writeShardedSafetensors(dir, layers, { maxShardSize: 16 });
  assert.deepEqual((await readdir(dir)).sort(), ["config.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
    "model-00003-of-00003.safetensors", "model-extra.safetensors", "model.safetensors.index.json"]);
  await writeShardedSafetensors(dir, layers);
  assert.deepEqual((await readdir(dir)).sort(), ["config.json", "model-extra.safetensors", "model.safetensors"]);
  const { tensors, file } = await readModelWeights(dir);
  assert.equal(file, join(dir, "model.safetensors"));
  assert.equal(tensors.size, 5);
}));

test("sharded: invalid tensors are refused before anything is written", () => withDir(async (dir) => {
  const bad = new Map<string, TensorToWrite>([["a", i64(1)], ["b", { dtype: "F32" as const, shape: [3], data: new Float32Array(2) }]]);
  await assert.rejects(writeShardedSafetensors(join(dir, "out"), bad, { maxShardSize: 8 }), /tensor "b": F32 \[3\] needs 12 bytes, got 8/);
  assert.deepEqual(await readdir(dir), []);
  await assert.rejects(writeShardedSafetensors(dir, layers, { weightsName: "../model.safetensors" }), /weightsName must be a file name/);
}));

test("sharded: a pytorch_model.bin index loads its .bin shards", () => withDir(async (dir) => {
  const shard = "pytorch_model-00001-of-00001.bin";
  await copyFile(fileURLToPath(new URL("../../fixtures/io/state_dict.bin", import.meta.url)), join(dir, shard));
  const weightMap = Object.fromEntries(["weight", "bias", "half", "bf16", "ids", "mask", "transposed", "slice", "shared_a", "scalar", "empty", "param"].map((k) => [k, shard]));
  await writeFile(join(dir, "pytorch_model.bin.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const { tensors, file } = await readModelWeights(dir);
  assert.equal(file, join(dir, "pytorch_model.bin.index.json"));
  assert.deepEqual(Array.from(toFloat32(tensors.get("param")!)), [0.25, 0.5]);
}));

test("sharded: an index that disagrees with its shards is a clear WhetError", () => withDir(async (dir) => {
  await writeSafetensorsFile(join(dir, "a.safetensors"), new Map([["x", i64(1)], ["y", i64(2)]]));
  const index = join(dir, "model.safetensors.index.json");
  const cases: [unknown, RegExp][] = [
    [{ weight_map: { x: "a.safetensors", y: "a.safetensors", z: "a.safetensors" } }, /the index maps tensor "z" to "a\.safetensors", which does not contain it/],
    [{ weight_map: { x: "a.safetensors" } }, /shard "a\.safetensors" holds tensor "y", which the index does not list/],
    [{ weight_map: { x: "a.safetensors", y: "b.safetensors" } }, /shard "b\.safetensors" \(listed for 1 tensors\) is missing from /],
    [{ weight_map: { x: "../a.safetensors" } }, /weight_map\["x"\] must be a file name in the same folder, got "\.\.\/a\.safetensors"/],
    [{ metadata: { total_size: 16 } }, /the weight_map is missing or not an object/],
    [[1, 2], /the weight_map is missing/],
  ];
  for (const [content, message] of cases) {
    await writeFile(index, JSON.stringify(content));
    await assert.rejects(readShardedCheckpoint(index), (e: unknown) => {
      assert.ok(e instanceof WhetError, String(e));
      assert.match(e.message, /^Cannot load sharded checkpoint .*model\.safetensors\.index\.json: /);
      assert.match(e.message, message);
      return true;
    });
  }
  await writeFile(index, "{oops");
  await assert.rejects(readShardedCheckpoint(index), /the index is not valid JSON/);
  await rm(index);
  await rm(join(dir, "a.safetensors"));
  await assert.rejects(readModelWeights(dir), /Cannot load model weights from .*: none of model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin, pytorch_model\.bin\.index\.json is there/);
}));
