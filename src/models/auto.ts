import { WhetError } from "../core/errors.js";
import type { PretrainedConfig } from "../io/config.js";
import { maxSequenceLength as familyMaxLength, TASKS, type Task, type TaskModel } from "./family.js";
import { familyOf } from "./registry.js";

export { FAMILIES, familyOf } from "./registry.js";
export { familySize, numLayers, SIZE_KEYS, TASKS, type ModelFamily, type ModelPart, type SizeKey, type Task, type TaskModel } from "./family.js";

/** Map whet's dropout overrides onto the family's own config keys (DistilBERT names them differently). */
export function dropoutOverrides(modelType: string, o: { hidden?: number; attention?: number; classifier?: number }): Record<string, number> {
  const keys = familyOf(modelType).dropoutKeys;
  const out: Record<string, number> = {};
  if (o.hidden !== undefined) out[keys.hidden] = o.hidden;
  if (o.attention !== undefined) out[keys.attention] = o.attention;
  if (o.classifier !== undefined) out[keys.classifier] = o.classifier;
  return out;
}

/**
 * The longest input the model's position embeddings allow: max_position_embeddings, less
 * RoBERTa's padding offset (positions start at pad_token_id + 1).
 *
 * @example
 * maxSequenceLength(readConfig("models/roberta-base")); // 512: 514 positions less the padding offset
 */
export function maxSequenceLength(config: PretrainedConfig): number {
  return familyMaxLength(familyOf(config), config);
}

/** The task a config was saved for, from its architectures entry. */
export function taskFromConfig(config: PretrainedConfig): Task | null {
  const arch = config.architectures?.[0] ?? "";
  if (arch.endsWith("ForSequenceClassification")) return "sequence-classification";
  if (arch.endsWith("ForTokenClassification")) return "token-classification";
  if (arch.endsWith("ForMaskedLM")) return "masked-lm";
  return null;
}

/**
 * Build the task model for a config (weights drawn from `seed` until loaded).
 *
 * @example
 * const model = createModel(readConfig("models/bert-mini"), "sequence-classification", 42);
 * await loadPretrainedWeights(model, "models/bert-mini"); // or fromPretrained, which does both
 */
export function createModel(config: PretrainedConfig, task?: Task, seed = 42): TaskModel {
  const fam = familyOf(config);
  const t = task ?? taskFromConfig(config);
  if (!t) {
    throw new WhetError(`cannot tell the task from architectures ${JSON.stringify(config.architectures ?? [])}: choose one of ${TASKS.join(", ")}`);
  }
  const model = fam.build(config, t);
  model.initWeights(seed);
  return model;
}


