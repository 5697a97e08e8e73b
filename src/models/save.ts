import { mkdir, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { id2label, type PretrainedConfig } from "../io/config.js";
import { writeSafetensorsFile, type TensorToWrite } from "../io/safetensors.js";
import { familyOf, taskFromConfig, type Task, type TaskModel } from "./auto.js";

export interface SaveOptions {
  task?: Task;
  /** Label names in id order, written as id2label / label2id. */
  labels?: readonly string[];
  /** Extra config keys to record (e.g. dropout overrides the run used). */
  configOverrides?: Record<string, unknown>;
}

/**
 * The config.json transformers would write for this model: the model's own keys, its
 * architecture for the task, id2label / label2id with string keys, problem_type.
 */
export function configForSave(model: TaskModel, o: SaveOptions = {}): PretrainedConfig {
  const base = { ...model.config, ...o.configOverrides } as PretrainedConfig;
  const fam = familyOf(base);
  const task = o.task ?? taskFromConfig(base) ?? "sequence-classification";
  const names = o.labels ?? id2label(base);
  const out: PretrainedConfig = { ...base, architectures: [fam.architectures[task]] };
  if (task !== "masked-lm") {
    out.id2label = Object.fromEntries(names.map((n, i) => [String(i), n]));
    out.label2id = Object.fromEntries(names.map((n, i) => [n, i]));
  }
  delete out.num_labels; // transformers derives it from id2label
  out.torch_dtype = "float32";
  out.transformers_version ??= "4.30.0";
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as PretrainedConfig;
}

/** The checkpoint tensors: every parameter once (tied weights are one Parameter), plus the buffers transformers 4.30 stores. */
export function stateDict(model: TaskModel): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const [name, p] of model.namedParameters()) out.set(name, { dtype: "F32", shape: [...p.shape], data: p.data });
  const c = model.config;
  const fam = familyOf(c);
  // BERT and RoBERTa (4.30) keep position_ids as a persistent int64 buffer [1, max_positions].
  if (fam.positionIdsBuffer && out.has(`${fam.prefix}.embeddings.position_embeddings.weight`)) {
    const n = Number(c.max_position_embeddings);
    out.set(`${fam.prefix}.embeddings.position_ids`, { dtype: "I64", shape: [1, n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)) });
  }
  return out;
}

/**
 * Write config.json and model.safetensors into `dir` in the layout `save_pretrained` writes.
 * Files are written under temporary names and renamed, so a crash leaves the old files or the new.
 */
export async function saveModel(model: TaskModel, dir: string, o: SaveOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensorsFile(join(dir, "model.safetensors"), stateDict(model), { format: "pt" });
  const tmp = join(dir, `.config.json.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(configForSave(model, o), null, 2) + "\n");
  await rename(tmp, join(dir, "config.json"));
}
