/**
 * Sharded checkpoints as transformers writes them: `model-00001-of-00003.safetensors`, ... plus
 * `model.safetensors.index.json` = {metadata: {total_size}, weight_map: {tensor: shard file}}.
 * Shards are planned as huggingface_hub's `split_torch_state_dict_into_shards` plans them
 * (state-dict order; a new shard when the next tensor would pass the limit; a tensor larger than
 * the limit gets a shard of its own), and the index is `json.dumps(indent=2, sort_keys=True)`.
 *
 * @example
 *   await writeShardedSafetensors("out", tensors, { maxShardSize: "2GB" });
 *   const { tensors } = await readModelWeights("out"); // single file, sharded, or .bin
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { WhetError } from "../core/errors.js";
import { writeFileAtomic } from "./files.js";
import type { RawTensor } from "./raw_tensor.js";
import { compareCodePoints, prepareTensors, readSafetensorsFile, writeSafetensorsFile, type TensorsToWrite } from "./safetensors.js";
import { readTorchBinFile } from "./torch_bin.js";

export interface ShardedContents {
  /** Shard by shard (sorted file names), each in file order. */
  tensors: Map<string, RawTensor>;
  /** The index's `metadata` (transformers writes `total_size`, the sum of tensor bytes). */
  metadata: Record<string, unknown>;
  /** Tensor name → shard file name, as the index lists it. */
  weightMap: Map<string, string>;
  /** The shard files, sorted, as transformers loads them. */
  shards: string[];
}

/** Reads an index file and every shard it names, checking that the two agree exactly. */
export async function readShardedCheckpoint(indexPath: string): Promise<ShardedContents> {
  const fail = (msg: string): never => {
    throw new WhetError(`Cannot load sharded checkpoint ${indexPath}: ${msg}`);
  };
  let index: unknown;
  try {
    index = JSON.parse(await readFile(indexPath, "utf8"));
  } catch (e) {
    fail(e instanceof SyntaxError ? `the index is not valid JSON (${e.message})` : (e as Error).message);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(index) || !isObject(index.weight_map)) fail(`expected {"metadata": {...}, "weight_map": {tensor: file}}, the weight_map is missing or not an object`);
  const { metadata = {}, weight_map } = index as { metadata?: unknown; weight_map: Record<string, unknown> };
  if (!isObject(metadata)) fail(`"metadata" must be an object, got ${JSON.stringify(metadata)}`);
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(weight_map)) {
    // A hostile index must not send us outside the folder: plain file names only.
    if (typeof file !== "string" || !/^[^/\\\0]+$/.test(file) || file === "." || file === "..") {
      fail(`weight_map["${name}"] must be a file name in the same folder, got ${JSON.stringify(file)}`);
    }
    weightMap.set(name, file as string);
  }
  const shards = [...new Set(weightMap.values())].sort(compareCodePoints);
  const byShard = new Map<string, Set<string>>(shards.map((s) => [s, new Set()]));
  for (const [name, file] of weightMap) byShard.get(file)!.add(name);

  for (const shard of shards) {
    if (!existsSync(join(dirname(indexPath), shard))) fail(`shard "${shard}" (listed for ${byShard.get(shard)!.size} tensors) is missing from ${dirname(indexPath)}`);
  }
  const tensors = new Map<string, RawTensor>();
  for (const shard of shards) {
    const path = join(dirname(indexPath), shard);
    const contents = shard.endsWith(".bin") ? await readTorchBinFile(path) : await readSafetensorsFile(path);
    const listed = byShard.get(shard)!;
    for (const [name, raw] of contents.tensors) {
      if (!listed.has(name)) {
        const other = weightMap.get(name);
        fail(`shard "${shard}" holds tensor "${name}", which the index ${other ? `maps to "${other}"` : "does not list"}`);
      }
      tensors.set(name, raw);
    }
    for (const name of listed) {
      if (!contents.tensors.has(name)) fail(`the index maps tensor "${name}" to "${shard}", which does not contain it`);
    }
  }
  return { tensors, metadata: metadata as Record<string, unknown>, weightMap, shards };
}

/** transformers' weight file names, in the order `from_pretrained` prefers them. */
const WEIGHT_FILES = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"];

/** The weights of a model folder: single or sharded, safetensors or pytorch_model.bin. */
export async function readModelWeights(dir: string): Promise<{ tensors: Map<string, RawTensor>; file: string }> {
  for (const name of WEIGHT_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    if (name.endsWith(".index.json")) return { tensors: (await readShardedCheckpoint(path)).tensors, file: path };
    const { tensors } = name.endsWith(".bin") ? await readTorchBinFile(path) : await readSafetensorsFile(path);
    return { tensors, file: path };
  }
  throw new WhetError(`Cannot load model weights from ${dir}: none of ${WEIGHT_FILES.join(", ")} is there`);
}

/** "5GB" = 5·10^9 bytes, "5GiB" = 5·2^30, or a number of bytes (transformers' convert_file_size_to_int). */
export function parseSize(size: number | string): number {
  if (typeof size === "number") {
    if (!Number.isSafeInteger(size) || size <= 0) throw new WhetError(`Shard size must be a positive whole number of bytes, got ${size}`);
    return size;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?\s*$/i.exec(size);
  if (!m) throw new WhetError(`Shard size ${JSON.stringify(size)} is not a size: use e.g. "5GB", "500MB", "2GiB" or a number of bytes`);
  const unit = (m[2] ?? "B").toUpperCase();
  const scale: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };
  return parseSize(Math.floor(Number(m[1]) * scale[unit]));
}

/** Groups tensor names into shards exactly as huggingface_hub does (see the file comment). */
export function planShards(tensors: readonly { name: string; nbytes: number }[], maxShardSize: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const t of tensors) {
    if (t.nbytes > maxShardSize) {
      shards.push([t.name]); // its own shard, placed before the one still being filled
      continue;
    }
    if (size + t.nbytes > maxShardSize && current.length > 0) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(t.name);
    size += t.nbytes;
  }
  if (current.length > 0) shards.push(current);
  return shards.length ? shards : [[]];
}

export interface ShardedWriteOptions {
  /** Default "5GB", transformers' default. */
  maxShardSize?: number | string;
  /** Each shard's `__metadata__`; default {format: "pt"}, which transformers' loader checks. */
  metadata?: Record<string, string>;
  /** Default "model.safetensors"; shards become model-00001-of-0000N.safetensors. */
  weightsName?: string;
}

/**
 * Writes `dir/model.safetensors`, or shards plus `model.safetensors.index.json` when the tensors
 * exceed `maxShardSize`. Each file is written atomically, the index last; afterwards shard files
 * and an index left by an earlier save that no longer belong are removed (as transformers does).
 */
export async function writeShardedSafetensors(dir: string, tensors: TensorsToWrite, options: ShardedWriteOptions = {}): Promise<{ files: string[]; index?: string }> {
  const max = parseSize(options.maxShardSize ?? "5GB");
  const metadata = options.metadata ?? { format: "pt" };
  const weightsName = options.weightsName ?? "model.safetensors";
  if (!weightsName.endsWith(".safetensors") || basename(weightsName) !== weightsName) {
    throw new WhetError(`Writing a sharded checkpoint in ${dir}: weightsName must be a file name ending in .safetensors, got ${JSON.stringify(weightsName)}`);
  }
  const stem = weightsName.slice(0, -".safetensors".length);
  // Validate everything before the first file is written, so bad input leaves the folder alone.
  const list = prepareTensors(tensors, `Writing a sharded checkpoint in ${dir}`);
  const byName = new Map(list.map((t) => [t.name, t]));
  const plan = planShards(list.map((t) => ({ name: t.name, nbytes: t.bytes.byteLength })), max);
  await mkdir(dir, { recursive: true });

  const files = plan.length === 1 ? [weightsName] : plan.map((_, i) => `${stem}-${pad5(i + 1)}-of-${pad5(plan.length)}.safetensors`);
  for (let i = 0; i < plan.length; i++) {
    await writeSafetensorsFile(join(dir, files[i]), plan[i].map((n) => byName.get(n)!), metadata);
  }
  const indexName = `${weightsName}.index.json`;
  let index: string | undefined;
  if (plan.length > 1) {
    const weightMap = new Map<string, string>();
    let total = 0;
    plan.forEach((names, i) => names.forEach((n) => { weightMap.set(n, files[i]); total += byName.get(n)!.bytes.byteLength; }));
    const json = pythonJsonDumps(new Map<string, unknown>([["metadata", new Map([["total_size", total]])], ["weight_map", weightMap]]));
    index = join(dir, indexName);
    await writeFileAtomic(index, [new TextEncoder().encode(`${json}\n`)]);
  }
  // Remove what an earlier save left: shards of another count, or an index beside a single file.
  const stale = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d{5}-of-\\d{5}\\.safetensors$`);
  for (const f of await readdir(dir)) {
    if ((stale.test(f) && !files.includes(f)) || (f === indexName && !index)) await unlink(join(dir, f));
  }
  return { files: files.map((f) => join(dir, f)), index };
}

const pad5 = (n: number) => String(n).padStart(5, "0");

/**
 * Python's `json.dumps(obj, indent=2, sort_keys=True)`: keys in code-point order (JS objects
 * would put integer-like keys first), non-ASCII escaped as \uXXXX (ensure_ascii). Maps only, so
 * a tensor named "__proto__" is an ordinary key.
 */
function pythonJsonDumps(v: unknown, indent = ""): string {
  if (!(v instanceof Map)) return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (v.size === 0) return "{}";
  const inner = `${indent}  `;
  const keys = [...(v as Map<string, unknown>).keys()].sort(compareCodePoints);
  return `{\n${keys.map((k) => `${inner}${pythonJsonDumps(k)}: ${pythonJsonDumps(v.get(k), inner)}`).join(",\n")}\n${indent}}`;
}
