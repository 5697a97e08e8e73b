// adapter_config.json as PEFT 0.20 reads and writes it (LoraConfig, IA3Config, PromptTuningConfig,
// PrefixTuningConfig): https://github.com/huggingface/peft/blob/v0.20.0/src/peft/tuners/lora/config.py
import { WhetError } from "../core/errors.js";

// BOTTLENECK is whet's own type (AdapterHub's seq_bn / double_seq_bn); PEFT itself has no such type.
export const PEFT_TYPES = ["LORA", "IA3", "PROMPT_TUNING", "PREFIX_TUNING", "BOTTLENECK"] as const;
export type PeftType = (typeof PEFT_TYPES)[number];
export const TASK_TYPES = ["SEQ_CLS", "TOKEN_CLS"] as const;

/** Module selection shared by LoRA and IA3: a list matched on "." boundaries, or one regex. */
export type TargetSpec = string[] | string;

interface Common {
  task_type: string | null;
  base_model_name_or_path: string | null;
  /** The user's entries; PEFT's task defaults ("classifier", "score") are added when applied. */
  modules_to_save: string[];
}

export interface LoraSettings extends Common {
  peft_type: "LORA";
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: TargetSpec | null;
  exclude_modules: TargetSpec | null;
  bias: "none" | "all" | "lora_only";
  use_rslora: boolean;
  init_lora_weights: boolean | "gaussian";
  layers_to_transform: number[] | null;
  layers_pattern: string[] | null;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
}

export interface IA3Settings extends Common {
  peft_type: "IA3";
  target_modules: TargetSpec | null;
  exclude_modules: TargetSpec | null;
  feedforward_modules: TargetSpec | null;
  init_ia3_weights: boolean;
}

export interface PromptSettings extends Common {
  peft_type: "PROMPT_TUNING" | "PREFIX_TUNING";
  num_virtual_tokens: number;
  token_dim: number | null;
  num_layers: number | null;
  num_attention_heads: number | null;
  prompt_tuning_init: "RANDOM" | "TEXT";
  prompt_tuning_init_text: string | null;
  prefix_projection: boolean;
  encoder_hidden_size: number | null;
}

export interface BottleneckPeftSettings extends Common {
  peft_type: "BOTTLENECK";
  architecture: "seq_bn" | "double_seq_bn";
  reduction_factor: number;
  non_linearity: "relu" | "swish";
  original_ln_before: boolean;
}

export type PeftSettings = LoraSettings | IA3Settings | PromptSettings | BottleneckPeftSettings;

/**
 * Options whet does not implement, with the values that mean "off". A file that turns one on is
 * refused with its key named: training without it would silently be another method.
 */
const OFF: Record<string, readonly unknown[]> = {
  use_dora: [false, null], fan_in_fan_out: [false, null], lora_bias: [false, null], use_qalora: [false, null],
  loftq_config: [null, {}], layer_replication: [null], target_parameters: [null, []], trainable_token_indices: [null],
  megatron_config: [null], alora_invocation_tokens: [null], arrow_config: [null], monteclora_config: [null],
  lora_ga_config: [null], use_bdlora: [null, false], velora_config: [null], num_transformer_submodules: [null, 1],
};

type Raw = Record<string, unknown>;

/**
 * A bad adapter setting, with the PEFT key it concerns: the command line names the flag or file
 * the key came from (`--lora-r`, `--peft-config a.json`) instead of the key alone.
 */
export class PeftConfigError extends WhetError {
  constructor(readonly where: string, readonly key: string, readonly detail: string) {
    super(`${where}: ${detail}`);
  }
}

function fail(where: string, key: string, expected: string, got: unknown): never {
  throw new PeftConfigError(where, key.split(".")[0], `"${key}" must be ${expected}, got ${JSON.stringify(got)}`);
}

function num(raw: Raw, key: string, where: string, dflt: number, test: (v: number) => boolean, what: string): number {
  const v = raw[key] ?? dflt;
  if (typeof v !== "number" || !test(v)) fail(where, key, what, v);
  return v;
}

function targets(raw: Raw, key: string, where: string): TargetSpec | null {
  const v = raw[key];
  if (v === undefined || v === null) return null;
  if (typeof v === "string") {
    try {
      new RegExp(v);
    } catch (e) {
      fail(where, key, `a list of module names or a valid regular expression (${(e as Error).message})`, v);
    }
    return v;
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x.length > 0)) fail(where, key, "a list of module names or one regex", v);
  return [...new Set(v as string[])];
}

function stringList(raw: Raw, key: string, where: string): string[] {
  const v = raw[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) fail(where, key, "a list of module names", v);
  return [...(v as string[])];
}

function pattern(raw: Raw, key: string, where: string): Record<string, number> {
  const v = raw[key] ?? {};
  if (typeof v !== "object" || Array.isArray(v) || v === null) fail(where, key, "an object of pattern → number", v);
  for (const [k, x] of Object.entries(v)) if (typeof x !== "number" || !(x > 0)) fail(where, `${key}.${k}`, "a positive number", x);
  return v as Record<string, number>;
}

function common(raw: Raw, where: string): Common {
  const task = raw.task_type ?? null;
  if (task !== null && !(TASK_TYPES as readonly unknown[]).includes(task)) {
    fail(where, "task_type", `one of ${TASK_TYPES.join(", ")} (the tasks whet's models have)`, task);
  }
  const base = raw.base_model_name_or_path ?? null;
  const mts = stringList(raw, "modules_to_save", where);
  // PEFT appends its task defaults to the user's list when it saves (twice for prompt learning):
  // strip them again so that saving what was loaded writes the same list.
  while (task !== null && mts.length >= 2 && mts[mts.length - 2] === "classifier" && mts[mts.length - 1] === "score") mts.splice(-2);
  return { task_type: task as string | null, base_model_name_or_path: base as string | null, modules_to_save: mts };
}

function lora(raw: Raw, where: string): LoraSettings {
  const bias = raw.bias ?? "none";
  if (bias !== "none" && bias !== "all" && bias !== "lora_only") fail(where, "bias", `"none", "all" or "lora_only"`, bias);
  const init = raw.init_lora_weights ?? true;
  if (init !== true && init !== false && init !== "gaussian") {
    fail(where, "init_lora_weights", `true, false or "gaussian" (whet does not implement ${JSON.stringify(init)})`, init);
  }
  let layers = raw.layers_to_transform ?? null;
  if (typeof layers === "number") layers = [layers];
  if (layers !== null && !(Array.isArray(layers) && layers.every((x) => Number.isInteger(x) && x >= 0))) {
    fail(where, "layers_to_transform", "a layer index or a list of them", layers);
  }
  let lp = raw.layers_pattern ?? null;
  if (typeof lp === "string") lp = [lp];
  return {
    ...common(raw, where),
    peft_type: "LORA",
    r: num(raw, "r", where, 8, (v) => Number.isInteger(v) && v > 0, "a positive integer"),
    lora_alpha: num(raw, "lora_alpha", where, 8, (v) => v > 0, "a positive number"),
    lora_dropout: num(raw, "lora_dropout", where, 0, (v) => v >= 0 && v < 1, "in [0, 1)"),
    target_modules: targets(raw, "target_modules", where),
    exclude_modules: targets(raw, "exclude_modules", where),
    bias,
    use_rslora: Boolean(raw.use_rslora ?? false),
    init_lora_weights: init,
    layers_to_transform: layers as number[] | null,
    layers_pattern: lp as string[] | null,
    rank_pattern: pattern(raw, "rank_pattern", where),
    alpha_pattern: pattern(raw, "alpha_pattern", where),
  };
}

function ia3(raw: Raw, where: string): IA3Settings {
  return {
    ...common(raw, where),
    peft_type: "IA3",
    target_modules: targets(raw, "target_modules", where),
    exclude_modules: targets(raw, "exclude_modules", where),
    feedforward_modules: targets(raw, "feedforward_modules", where),
    init_ia3_weights: Boolean(raw.init_ia3_weights ?? true),
  };
}

function prompt(raw: Raw, where: string, type: "PROMPT_TUNING" | "PREFIX_TUNING"): PromptSettings {
  const init = raw.prompt_tuning_init ?? "RANDOM";
  if (init !== "RANDOM" && init !== "TEXT") fail(where, "prompt_tuning_init", `"RANDOM" or "TEXT" (whet does not implement ${JSON.stringify(init)})`, init);
  if (init === "TEXT" && typeof raw.prompt_tuning_init_text !== "string") fail(where, "prompt_tuning_init_text", "a text when prompt_tuning_init is TEXT", raw.prompt_tuning_init_text);
  const opt = (k: string) => (raw[k] === undefined || raw[k] === null ? null : num(raw, k, where, 0, (v) => Number.isInteger(v) && v > 0, "a positive integer"));
  return {
    ...common(raw, where),
    peft_type: type,
    num_virtual_tokens: num(raw, "num_virtual_tokens", where, NaN, (v) => Number.isInteger(v) && v > 0, "a positive integer"),
    token_dim: opt("token_dim"),
    num_layers: opt("num_layers"),
    num_attention_heads: opt("num_attention_heads"),
    prompt_tuning_init: init,
    prompt_tuning_init_text: (raw.prompt_tuning_init_text as string | null) ?? null,
    prefix_projection: Boolean(raw.prefix_projection ?? false),
    encoder_hidden_size: opt("encoder_hidden_size"),
  };
}

/**
 * Validate an adapter_config.json object (PEFT's key names). Keys whet does not read are ignored,
 * as PEFT writes about 40 of them; options that would change the method and that whet does not
 * implement (DoRA, LoftQ, …) are errors naming the key.
 *
 * @example
 * const s = parsePeftConfig({ peft_type: "LORA", r: 8, lora_alpha: 16, target_modules: ["query", "value"] });
 */
export function parsePeftConfig(raw: Raw, where = "adapter_config.json"): PeftSettings {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new WhetError(`${where}: expected a JSON object`);
  const type = raw.peft_type;
  if (!(PEFT_TYPES as readonly unknown[]).includes(type)) {
    const supported = PEFT_TYPES.join(", ");
    throw new PeftConfigError(where, "peft_type", `peft_type ${JSON.stringify(type)} is not supported by whet (supported: ${supported})`);
  }
  for (const [key, off] of Object.entries(OFF)) {
    const v = raw[key];
    if (v === undefined) continue;
    const isOff = off.some((o) => JSON.stringify(o) === JSON.stringify(v));
    if (!isOff) {
      const offs = off.map((o) => JSON.stringify(o)).join(" or ");
      throw new PeftConfigError(where, key, `"${key}": ${JSON.stringify(v)} is not implemented by whet (only ${offs})`);
    }
  }
  if (type === "LORA") return lora(raw, where);
  if (type === "IA3") return ia3(raw, where);
  if (type === "BOTTLENECK") return bottleneck(raw, where);
  return prompt(raw, where, type as "PROMPT_TUNING" | "PREFIX_TUNING");
}

function bottleneck(raw: Raw, where: string): BottleneckPeftSettings {
  const arch = raw.architecture ?? "seq_bn";
  if (arch !== "seq_bn" && arch !== "double_seq_bn") fail(where, "architecture", `"seq_bn" (Pfeiffer) or "double_seq_bn" (Houlsby)`, arch);
  const act = raw.non_linearity ?? (arch === "seq_bn" ? "relu" : "swish");
  if (act !== "relu" && act !== "swish") fail(where, "non_linearity", `"relu" or "swish"`, act);
  return {
    ...common(raw, where),
    peft_type: "BOTTLENECK",
    architecture: arch,
    reduction_factor: num(raw, "reduction_factor", where, 16, (v) => v > 0, "a positive number"),
    non_linearity: act,
    original_ln_before: Boolean(raw.original_ln_before ?? arch === "seq_bn"),
  };
}

/** The keys PEFT 0.20 writes for each type, in its order, with their defaults. */
const WRITTEN: Record<PeftType, Raw> = {
  LORA: {
    alora_invocation_tokens: null, alpha_pattern: {}, arrow_config: null, auto_mapping: null, base_model_name_or_path: null,
    bias: "none", corda_config: null, ensure_weight_tying: false, eva_config: null, exclude_modules: null, fan_in_fan_out: false,
    inference_mode: true, init_lora_weights: true, layer_replication: null, layers_pattern: null, layers_to_transform: null,
    loftq_config: {}, lora_alpha: 8, lora_bias: false, lora_dropout: 0, lora_ga_config: null, megatron_config: null,
    megatron_core: "megatron.core", modules_to_save: null, monteclora_config: null, peft_type: "LORA", peft_version: "0.20.0",
    qalora_group_size: 16, r: 8, rank_pattern: {}, revision: null, target_modules: null, target_parameters: null, task_type: null,
    trainable_token_indices: null, use_bdlora: null, use_dora: false, use_qalora: false, use_rslora: false, velora_config: null,
  },
  IA3: {
    auto_mapping: null, base_model_name_or_path: null, exclude_modules: null, fan_in_fan_out: false, feedforward_modules: null,
    inference_mode: true, init_ia3_weights: true, modules_to_save: null, peft_type: "IA3", peft_version: "0.20.0", revision: null,
    target_modules: null, task_type: null,
  },
  PROMPT_TUNING: {
    auto_mapping: null, base_model_name_or_path: null, inference_mode: true, modules_to_save: null, num_attention_heads: null,
    num_layers: null, num_transformer_submodules: 1, num_virtual_tokens: null, peft_type: "PROMPT_TUNING", peft_version: "0.20.0",
    prompt_tuning_init: "RANDOM", prompt_tuning_init_text: null, revision: null, task_type: null, token_dim: null,
    tokenizer_kwargs: null, tokenizer_name_or_path: null,
  },
  PREFIX_TUNING: {
    auto_mapping: null, base_model_name_or_path: null, encoder_hidden_size: null, inference_mode: true, init_weights: null,
    modules_to_save: null, num_attention_heads: null, num_layers: null, num_transformer_submodules: 1, num_virtual_tokens: null,
    peft_type: "PREFIX_TUNING", peft_version: "0.20.0", prefix_projection: false, revision: null, task_type: null, token_dim: null,
  },
  BOTTLENECK: {
    architecture: "seq_bn", base_model_name_or_path: null, inference_mode: true, modules_to_save: null, non_linearity: "relu",
    original_ln_before: true, peft_type: "BOTTLENECK", reduction_factor: 16, task_type: null, whet_version: "0.1.0",
  },
};

/**
 * The adapter_config.json PEFT would write for these settings: every key of its config class,
 * sorted, `inference_mode` true, modules_to_save with the task's defaults appended as PEFT does.
 */
export function configToWrite(s: PeftSettings, extra: Raw = {}): Raw {
  const out: Raw = { ...WRITTEN[s.peft_type] };
  for (const [k, v] of Object.entries(s)) if (k in out) out[k] = v;
  Object.assign(out, extra);
  const taskDefaults = s.task_type ? ["classifier", "score"] : [];
  // Prompt-learning configs list the task defaults twice in PEFT's own files.
  const repeat = s.peft_type === "PROMPT_TUNING" || s.peft_type === "PREFIX_TUNING" ? [...taskDefaults, ...taskDefaults] : taskDefaults;
  const mts = [...s.modules_to_save, ...repeat];
  out.modules_to_save = mts.length ? mts : null;
  out.inference_mode = true;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
