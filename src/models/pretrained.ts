import { existsSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { toFloat32 } from "../io/raw_tensor.js";
import { readSafetensorsFile } from "../io/safetensors.js";
import { FAMILIES, type TaskModel } from "./auto.js";
import { loadWeights, type LoadReport } from "./load_weights.js";

/** Load model.safetensors from a model folder into `model`. */
export async function loadPretrainedWeights(model: TaskModel, dir: string): Promise<LoadReport> {
  const file = join(dir, "model.safetensors");
  if (!existsSync(file)) throw new WhetError(`loading weights: ${file} does not exist`);
  const { tensors } = await readSafetensorsFile(file);
  const prefix = FAMILIES[model.config.model_type].prefix;
  return loadWeights(model, prefix, {
    keys: () => tensors.keys(),
    shape: (k) => tensors.get(k)!.shape,
    float32: (k) => toFloat32(tensors.get(k)!),
  }, file);
}
