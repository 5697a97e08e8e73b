// Which modules an adapter wraps, by PEFT 0.20's rules (check_target_module_exists,
// get_pattern_key, ModulesToSaveWrapper): https://github.com/huggingface/peft/blob/v0.20.0/src/peft/tuners/tuners_utils.py
import { WhetError } from "../core/errors.js";
import type { TargetSpec } from "./config.js";

/** A name in a list matches the full module name or its tail after a "."; a string is a full-match regex. */
export function matchesTarget(name: string, spec: TargetSpec): boolean {
  if (typeof spec === "string") return new RegExp(`^(?:${spec})$`).test(name);
  return spec.some((t) => name === t || name.endsWith(`.${t}`));
}

/** Whether a list entry of target_modules matches this module name. */
export function entryMatches(name: string, entry: string): boolean {
  return name === entry || name.endsWith(`.${entry}`);
}

/** modules_to_save wraps every module whose name ends with an entry, as a plain string (no "." boundary). */
export function isSavedModule(name: string, modulesToSave: readonly string[]): boolean {
  return name !== "" && modulesToSave.some((m) => name.endsWith(m));
}

/** A module inside a modules_to_save copy is never targeted: a part of its name equals an entry. */
export function insideSavedModule(name: string, modulesToSave: readonly string[]): boolean {
  const parts = name.split(".");
  return modulesToSave.some((m) => parts.includes(m) || name.startsWith(`${m}.`));
}

/** PEFT's COMMON_LAYERS_PATTERN: the ModuleList names that number the transformer blocks. */
const LAYER_LISTS = ["layers", "h", "block", "blocks", "layer"];

/** The block index in a module name ("bert.encoder.layer.3.attention…" → 3), or null outside the blocks. */
export function layerIndex(name: string, patterns: readonly string[] | null): number | null {
  for (const p of patterns ?? LAYER_LISTS) {
    const m = new RegExp(`.*\\.${p}\\.(\\d+)\\.`).exec(name);
    if (m) return Number(m[1]);
  }
  return null;
}

/** rank_pattern / alpha_pattern: the value of the first key equal to the name or matching its tail. */
export function patternValue(name: string, pattern: Record<string, number>): number | undefined {
  for (const [key, v] of Object.entries(pattern)) {
    if (key === name) return v;
    try {
      if (new RegExp(`^(?:.*\\.)?(?:${key})$`).test(name)) return v;
    } catch {
      throw new WhetError(`pattern key ${JSON.stringify(key)} is not a valid regular expression`);
    }
  }
  return undefined;
}

/**
 * PEFT's default target modules per architecture and method (its TRANSFORMERS_MODELS_TO_*_MAPPING).
 * Kept in one function so a model registry can take it over.
 */
export function defaultTargets(modelType: string, method: "LORA" | "IA3"): { targets: string[]; feedforward: string[] } | null {
  const bertLike = modelType === "bert" || modelType === "roberta" || modelType === "xlm-roberta";
  if (method === "LORA") return bertLike ? { targets: ["query", "value"], feedforward: [] } : null;
  if (bertLike) return { targets: ["key", "value", "output.dense"], feedforward: ["output.dense"] };
  if (modelType === "distilbert") return { targets: ["q_lin", "v_lin", "lin2"], feedforward: ["lin2"] };
  return null;
}

/** Module names with block numbers folded ("bert.encoder.layer.*.attention.self.query"), for error messages. */
export function describeModules(names: readonly string[]): string {
  const folded = [...new Set(names.map((n) => n.replace(/\.(\d+)\./g, ".*.")))];
  return folded.join(", ");
}
