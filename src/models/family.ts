import type { PretrainedConfig } from "../io/config.js";
import type { Module } from "../nn/module.js";
import type { EncoderInputs } from "./bert.js";
import type { ModelOutput } from "./heads.js";

export type Task = "sequence-classification" | "token-classification" | "masked-lm";
export const TASKS: readonly Task[] = ["sequence-classification", "token-classification", "masked-lm"];

/** A task model of any family: the Trainer and the commands only see this. */
export interface TaskModel extends Module {
  readonly config: PretrainedConfig;
  forward(b: EncoderInputs): ModelOutput;
}

/** Architecture sizes under BERT's config names; a family maps them onto its own keys. */
export const SIZE_KEYS = [
  "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "max_position_embeddings",
] as const;
export type SizeKey = (typeof SIZE_KEYS)[number];

/** Where a parameter sits in the network, for layer-wise learning rates and gradual unfreezing. */
export type ModelPart = { kind: "embeddings" } | { kind: "layer"; index: number } | { kind: "head" };

/**
 * Everything the rest of whet asks about an architecture. One entry per model_type in
 * registry.ts; adding an architecture is its model file plus that entry.
 */
export interface ModelFamily {
  /** config.json's model_type. */
  modelType: string;
  /** The base model's attribute name: the checkpoint prefix of the encoder's weights. */
  prefix: string;
  /** Whether the encoder reads token_type_ids. */
  tokenTypes: boolean;
  /** transformers' class name per task, written into config.json's "architectures". */
  architectures: Record<Task, string>;
  /** This family's config keys for the hidden, attention and classifier dropout probabilities. */
  dropoutKeys: { hidden: string; attention: string; classifier: string };
  /** This family's config keys for the sizes BERT calls hidden_size, num_hidden_layers… */
  sizeKeys: Record<SizeKey, string>;
  /** The config transformers builds when config.json leaves a key out. */
  defaults: Readonly<Record<string, unknown>>;
  /** The tokenizer its checkpoints ship: only "wordpiece" vocabularies can be trained here. */
  tokenizer: "wordpiece" | "byte-level-bpe" | "sentencepiece";
  /** Saved checkpoints carry transformers 4.30's int64 `embeddings.position_ids` buffer. */
  positionIdsBuffer: boolean;
  /** Position ids start after the padding id (RoBERTa): that many positions are not usable. */
  positionOffset(config: PretrainedConfig): number;
  /** PEFT's default LoRA target modules for this model type; null when the user must name them. */
  loraTargets: readonly string[] | null;
  /** Modules of the classification head (trained in full next to an adapter, PEFT's modules_to_save). */
  headModules: readonly string[];
  /** Where a parameter (by state-dict name) sits: embeddings, encoder layer i, or the task head. */
  partOf(name: string): ModelPart;
  build(config: PretrainedConfig, task: Task): TaskModel;
}

/** A config key of the family's size, from config.json or the family's defaults. */
export function familySize(family: ModelFamily, config: PretrainedConfig, key: SizeKey): number {
  const k = family.sizeKeys[key];
  return Number(config[k] ?? family.defaults[k]);
}

/** Encoder layers of a config. */
export function numLayers(family: ModelFamily, config: PretrainedConfig): number {
  return familySize(family, config, "num_hidden_layers");
}

/**
 * The longest input the model's position embeddings allow: max_position_embeddings, less the
 * family's position offset (RoBERTa's positions start at pad_token_id + 1).
 */
export function maxSequenceLength(family: ModelFamily, config: PretrainedConfig): number {
  return familySize(family, config, "max_position_embeddings") - family.positionOffset(config);
}

/** partOf for the usual naming: `<prefix>.embeddings.*`, `<prefix>.<layers>.<i>.*`, the rest head. */
export function partsByName(prefix: string, layers: string): (name: string) => ModelPart {
  const layer = new RegExp(`^${prefix}\\.${layers.replace(/\./g, "\\.")}\\.(\\d+)\\.`);
  return (name) => {
    if (name.startsWith(`${prefix}.embeddings.`)) return { kind: "embeddings" };
    const m = layer.exec(name);
    return m ? { kind: "layer", index: Number(m[1]) } : { kind: "head" };
  };
}
