// The adapter folder PEFT's save_pretrained writes: adapter_config.json + adapter_model.safetensors
// (F32, metadata {"format": "pt"}, tensor names without the adapter name).
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { readSafetensorsFile, toFloat32, writeSafetensorsFile, type RawTensor, type TensorToWrite } from "../io/safetensors.js";
import { configToWrite, parsePeftConfig, type PeftSettings } from "./config.js";
import type { AppliedAdapter } from "./apply.js";

export const ADAPTER_CONFIG = "adapter_config.json";
export const ADAPTER_WEIGHTS = "adapter_model.safetensors";

/** Whether a folder holds a PEFT adapter. */
export function isAdapterFolder(dir: string): boolean {
  return existsSync(join(dir, ADAPTER_CONFIG));
}

/** Read and validate a folder's adapter_config.json. */
export function readAdapterConfig(dir: string): PeftSettings {
  const path = join(dir, ADAPTER_CONFIG);
  if (!existsSync(path)) throw new WhetError(`loading the adapter ${dir}: no ${ADAPTER_CONFIG} there`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new WhetError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return parsePeftConfig(raw as Record<string, unknown>, path);
}

/** The adapter's tensors as stored (adapter_model.bin is torch pickle: PEFT writes it only with safe_serialization=False). */
export async function readAdapterTensors(dir: string): Promise<Map<string, RawTensor>> {
  const path = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(path)) {
    const bin = existsSync(join(dir, "adapter_model.bin")) ? " (adapter_model.bin is not read: save with safe_serialization=True)" : "";
    throw new WhetError(`loading the adapter ${dir}: no ${ADAPTER_WEIGHTS}${bin}`);
  }
  return (await readSafetensorsFile(path)).tensors;
}

// PEFT < 0.7 stored a wrapped layer's bias without "base_layer".
const alias = (key: string) => key.replace(/\.base_layer\.bias$/, ".bias");

/**
 * Copy an adapter file's tensors into an applied adapter. Every tensor must be there with its
 * shape: a mismatch means the adapter was trained on another base model, and says which tensor.
 */
export function copyAdapterTensors(a: AppliedAdapter, file: Map<string, RawTensor>, source: string): void {
  const byAlias = new Map([...file.keys()].map((k) => [alias(k), k]));
  const used = new Set<string>();
  for (const [key, p] of a.tensors) {
    const k = file.has(key) ? key : byAlias.get(alias(key));
    if (k === undefined) throw new WhetError(`loading the adapter ${source}: it has no "${key}" (expected shape [${p.shape.join(", ")}])`);
    const t = file.get(k)!;
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new WhetError(`loading the adapter ${source}: cannot load "${k}": expected [${p.shape.join(", ")}], got [${t.shape.join(", ")}] `
        + `(was it trained on another base model?)`);
    }
    p.data = Float32Array.from(toFloat32(t));
    used.add(k);
  }
  const extra = [...file.keys()].filter((k) => !used.has(k));
  if (extra.length) {
    throw new WhetError(`loading the adapter ${source}: ${extra.length} tensor(s) have no place in the model with this adapter_config.json: `
      + `${extra.slice(0, 5).join(", ")}${extra.length > 5 ? ", …" : ""}`);
  }
}

/** The tensors PEFT's save_pretrained writes for this adapter. */
export function adapterStateDict(a: AppliedAdapter): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const [key, p] of a.tensors) out.set(key, { dtype: "F32", shape: [...p.shape], data: p.data });
  for (const [key, d] of a.derived ?? []) out.set(key, { dtype: "F32", shape: d.shape, data: d.compute() });
  return out;
}

/**
 * Write adapter_config.json and adapter_model.safetensors into `dir` as PEFT's save_pretrained
 * does. Both files are written under temporary names and renamed.
 */
export async function saveAdapter(dir: string, a: AppliedAdapter, baseModel: string | null): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensorsFile(join(dir, ADAPTER_WEIGHTS), adapterStateDict(a), { format: "pt" });
  const config = configToWrite(a.settings, { base_model_name_or_path: baseModel ?? a.settings.base_model_name_or_path });
  const tmp = join(dir, `.${ADAPTER_CONFIG}.${process.pid}.tmp`);
  await writeFile(tmp, formatConfig(config));
  await rename(tmp, join(dir, ADAPTER_CONFIG));
}

/** json.dumps(indent=2, sort_keys=True) as PEFT calls it: Python floats keep their ".0", no final newline. */
export function formatConfig(config: Record<string, unknown>): string {
  return JSON.stringify(config, null, 2).replace(/^( {2}"lora_dropout": )(-?\d+)(,?)$/m, "$1$2.0$3");
}
