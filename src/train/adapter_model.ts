// The glue between models and adapters (peft/ works on the bare Module tree): attach a new or a
// saved adapter to a task model, and the files a Trainer writes for a model with an adapter.
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import type { RawTensor } from "../io/safetensors.js";
import type { TaskModel } from "../models/auto.js";
import { configForSave, type SaveOptions } from "../models/save.js";
import { copyAdapterTensors, readAdapterConfig, readAdapterTensors, saveAdapter } from "../peft/adapter_files.js";
import { applyAdapter, type AppliedAdapter } from "../peft/apply.js";
import type { PeftSettings } from "../peft/config.js";
import type { ModelFiles } from "./checkpoint.js";

/** Attach a fresh adapter (weights drawn from `seed` as PEFT initialises them). */
export function attachAdapter(model: TaskModel, s: PeftSettings, seed: number): AppliedAdapter {
  if (s.peft_type === "LORA" || s.peft_type === "IA3") return applyAdapter(model, s, seed);
  throw new WhetError(`${s.peft_type} is not implemented yet`);
}

/**
 * Load an adapter folder written by PEFT (or whet) onto `model`, as PeftModel.from_pretrained:
 * the config applies the adapter, then every tensor of adapter_model.safetensors is copied in.
 *
 * @example
 * const { model } = await fromPretrained("base");
 * const adapter = await loadAdapter(model, "my-adapter");
 */
export async function loadAdapter(model: TaskModel, dir: string, seed = 42): Promise<AppliedAdapter> {
  const s = readAdapterConfig(dir);
  const tensors = await readAdapterTensors(dir);
  const a = attachAdapter(model, s, seed);
  copyAdapterTensors(a, tensors, dir);
  return a;
}

/** The label count of the classification head an adapter saves (modules_to_save), if it saves one. */
export function savedHeadLabels(tensors: Map<string, RawTensor>): number | null {
  for (const [k, t] of tensors) {
    if (/(^|\.)(classifier(\.out_proj)?|score)\.weight$/.test(k) && t.shape.length === 2) return t.shape[0];
  }
  return null;
}

/**
 * What a Trainer saves and restores for a model with an adapter: the adapter files (only the
 * trainable tensors), plus the base's config.json with the run's labels so that the folder tells
 * `--adapter` users the label names.
 */
export function adapterModelFiles(model: TaskModel, a: AppliedAdapter, baseModel: string | null, save: SaveOptions = {}): ModelFiles {
  return {
    save: async (dir) => {
      await saveAdapter(dir, a, baseModel);
      const tmp = join(dir, `.config.json.${process.pid}.tmp`);
      await writeFile(tmp, JSON.stringify(configForSave(model, save), null, 2) + "\n");
      await rename(tmp, join(dir, "config.json"));
    },
    load: async (dir) => copyAdapterTensors(a, await readAdapterTensors(dir), dir),
  };
}
