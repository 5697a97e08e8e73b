import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { findDuplicateKey } from "../core/json_keys.js";
import { checkConfigKeys, type ArchitectureSizes } from "./config_schema.js";
import { assertRegularFile } from "../core/regular_file.js";

/** config.json's model_type; which ones whet can build is the models' registry's business (models/registry.ts). */
export type ModelType = string;

/** transformers' defaults for the sizes a config may leave out, per model_type. */
const ARCH_DEFAULTS: Record<ModelType, ArchitectureSizes> = {
  bert: { vocab: 30522, hidden: 768, layers: 12, heads: 12, intermediate: 3072, positions: 512 },
  roberta: { vocab: 50265, hidden: 768, layers: 12, heads: 12, intermediate: 3072, positions: 512 },
  "xlm-roberta": { vocab: 30522, hidden: 768, layers: 12, heads: 12, intermediate: 3072, positions: 512 },
  distilbert: { vocab: 30522, hidden: 768, layers: 6, heads: 12, intermediate: 3072, positions: 512 },
};

export type ProblemType = "regression" | "single_label_classification" | "multi_label_classification";

/** Keys every transformers config may carry (PretrainedConfig), names verbatim. */
export interface PretrainedConfig {
  model_type: ModelType;
  architectures?: string[];
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  num_labels?: number;
  problem_type?: ProblemType;
  pad_token_id?: number;
  bos_token_id?: number;
  eos_token_id?: number;
  torch_dtype?: string;
  transformers_version?: string;
  [key: string]: unknown;
}

/**
 * The number of labels as transformers derives it: from id2label when present, else num_labels,
 * else 2 (PretrainedConfig's default).
 */
export function numLabels(c: PretrainedConfig): number {
  if (c.id2label && Object.keys(c.id2label).length > 0) return Object.keys(c.id2label).length;
  return c.num_labels ?? 2;
}

/** id2label with the default LABEL_i names when the config has none. */
export function id2label(c: PretrainedConfig): string[] {
  const n = numLabels(c);
  return Array.from({ length: n }, (_, i) => c.id2label?.[String(i)] ?? `LABEL_${i}`);
}

/** Parse and check a config.json's text; `source` names the file in errors. */
export function parseConfig(text: string, source: string): PretrainedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new WhetError(`reading ${source}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new WhetError(`reading ${source}: expected a JSON object`);
  const dup = findDuplicateKey(text);
  if (dup) throw new WhetError(`reading ${source}:${dup.line}: the key "${dup.key}" appears twice${dup.path ? ` in "${dup.path}"` : ""} (JSON keeps only the last; remove one)`);
  const c = raw as Record<string, unknown>;
  const type = c.model_type;
  if (typeof type !== "string") throw new WhetError(`reading ${source}: "model_type" is missing`);
  if (c.id2label !== undefined) {
    if (typeof c.id2label !== "object" || c.id2label === null) throw new WhetError(`reading ${source}: "id2label" must be an object`);
    const keys = Object.keys(c.id2label).map(Number).sort((a, b) => a - b);
    if (keys.some((k, i) => k !== i)) throw new WhetError(`reading ${source}: "id2label" keys must be 0..${keys.length - 1}, got ${Object.keys(c.id2label).join(", ")}`);
  }
  checkConfigKeys(c, source, Object.hasOwn(ARCH_DEFAULTS, type) ? ARCH_DEFAULTS[type] : undefined);
  const pt = c.problem_type;
  if (pt !== undefined && pt !== null && !["regression", "single_label_classification", "multi_label_classification"].includes(pt as string)) {
    throw new WhetError(`reading ${source}: problem_type "${String(pt)}" is not one of regression, single_label_classification, multi_label_classification`);
  }
  if (pt === null) delete c.problem_type;
  return c as PretrainedConfig;
}

/**
 * The architecture sizes of a checked config, with transformers' defaults for absent keys; null
 * for a model_type other than the encoder families above (their sizes go by other names).
 */
export function architectureSizes(c: PretrainedConfig): ArchitectureSizes | null {
  const type = c.model_type;
  return checkConfigKeys(c, "config.json", Object.hasOwn(ARCH_DEFAULTS, type) ? ARCH_DEFAULTS[type] : undefined);
}

export function readConfig(dir: string): PretrainedConfig {
  const path = join(dir, "config.json");
  let text: string;
  assertRegularFile(path, "reading the model config:");
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new WhetError(`reading the model config: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseConfig(text, path);
}
