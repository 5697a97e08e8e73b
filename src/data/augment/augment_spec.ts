/**
 * What an augmentation run asks for, as a run config's `augment:` block or `whet augment`'s flags
 * spell it: a method and its options, checked up front so that a typo ("alpha-rs" for a method
 * without it, "num_augs") stops before any data is read.
 *
 * @example
 * const spec = parseAugmentSpec({ method: "eda", num_aug: 8, alpha_sr: 0.2 });
 */
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { WhetError } from "../../core/errors.js";

export const AUGMENT_METHODS = ["eda", "template", "back-translation", "code-switch"] as const;
export type AugmentMethod = (typeof AUGMENT_METHODS)[number];

export interface AugmentSpec {
  method: AugmentMethod;
  /** Outputs per input row (eda: default 4; code-switch and back-translation: default 1). */
  num_aug?: number;
  alpha_sr?: number;
  alpha_ri?: number;
  alpha_rs?: number;
  p_rd?: number;
  /** template: the YAML file of templates. */
  templates?: string;
  max_per_template?: number;
  /** code-switch: MUSE dictionaries (`src tgt` per line); `de=path` names the language. */
  dictionaries?: string[];
  ratio?: number;
  cross?: number;
  /** back-translation: "en-de" picks Helsinki-NLP/opus-mt-en-de and opus-mt-de-en. */
  back_translate?: string;
  /** back-translation: the two models (source→pivot, pivot→source), folders or Hub ids. */
  pivot_models?: string[];
  num_beams?: number;
  /** Text pairs: augment the first text only (default) or both. */
  pair?: "first" | "both";
}

const COMMON = ["method", "num_aug", "pair"];
/** The options each method reads; anything else is a mistake worth stopping for. */
export const METHOD_OPTIONS: Record<AugmentMethod, readonly string[]> = {
  "eda": [...COMMON, "alpha_sr", "alpha_ri", "alpha_rs", "p_rd"],
  "template": ["method", "templates", "max_per_template"],
  "code-switch": [...COMMON, "dictionaries", "ratio", "cross"],
  "back-translation": [...COMMON, "back_translate", "pivot_models", "num_beams"],
};

const NUMBERS = [
  "num_aug", "alpha_sr", "alpha_ri", "alpha_rs", "p_rd", "max_per_template", "ratio", "cross", "num_beams",
];

/**
 * Check a raw spec. `flag` spells an option as the user typed it (`--num-aug` on the command
 * line, `augment.num_aug` in a run config).
 */
export function parseAugmentSpec(raw: Record<string, unknown>, flag: (key: string) => string = (k) => k): AugmentSpec {
  const method = raw.method;
  if (typeof method !== "string" || !(AUGMENT_METHODS as readonly string[]).includes(method)) {
    throw new WhetError(`Unknown augmentation method ${JSON.stringify(method)} for ${flag("method")} ` +
      `(expected one of: ${AUGMENT_METHODS.join(", ")})`);
  }
  const m = method as AugmentMethod;
  const given = Object.entries(raw).filter(([, v]) => v !== undefined);
  for (const [key] of given) {
    if (METHOD_OPTIONS[m].includes(key)) continue;
    const owner = AUGMENT_METHODS.filter((x) => METHOD_OPTIONS[x].includes(key));
    throw new WhetError(owner.length > 0
      ? `${flag(key)} is an option of ${owner.join(" and ")}, not of method "${m}"`
      : `Unknown augmentation option ${flag(key)} (method "${m}" takes: ${METHOD_OPTIONS[m].map(flag).join(", ")})`);
  }
  for (const [key, v] of given) {
    if (NUMBERS.includes(key) && (typeof v !== "number" || !Number.isFinite(v))) {
      throw new WhetError(`${flag(key)} must be a number, got ${JSON.stringify(v)}`);
    }
  }
  if (raw.pair !== undefined && raw.pair !== "first" && raw.pair !== "both") {
    throw new WhetError(`${flag("pair")} must be "first" or "both", got ${JSON.stringify(raw.pair)}`);
  }
  for (const key of ["dictionaries", "pivot_models"]) {
    const v = raw[key];
    if (v !== undefined && !(Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x !== ""))) {
      throw new WhetError(`${flag(key)} must be a non-empty list of paths, got ${JSON.stringify(v)}`);
    }
  }
  if (m === "template" && typeof raw.templates !== "string") {
    throw new WhetError(`method "template" needs ${flag("templates")} (a YAML file of templates and slots)`);
  }
  if (m === "back-translation") {
    if ((raw.back_translate === undefined) === (raw.pivot_models === undefined)) {
      throw new WhetError(`method "back-translation" needs exactly one of ${flag("back_translate")} (e.g. en-de) ` +
        `and ${flag("pivot_models")} (two models: source to pivot, pivot to source)`);
    }
    if (raw.num_aug !== undefined && raw.num_aug !== 1) {
      throw new WhetError(`${flag("num_aug")} must be 1 for back-translation: ` +
        `decoding is beam search, one paraphrase per text`);
    }
  }
  if (m === "code-switch" && raw.dictionaries === undefined) {
    throw new WhetError(`method "code-switch" needs ${flag("dictionaries")} ` +
      `(MUSE bilingual dictionaries, "src tgt" per line)`);
  }
  return Object.fromEntries(given) as unknown as AugmentSpec;
}

/** The spec with its file paths (templates, dictionaries) taken relative to `baseDir` (a run config's folder). */
export function resolveSpecPaths(spec: AugmentSpec, baseDir: string): AugmentSpec {
  const at = (p: string) => (isAbsolute(p) ? p : join(baseDir, p));
  const dict = (d: string) => { const m = /^([A-Za-z_-]+)=(.+)$/.exec(d); return m ? `${m[1]}=${at(m[2])}` : at(d); };
  return {
    ...spec,
    ...(spec.templates ? { templates: at(spec.templates) } : {}),
    ...(spec.dictionaries ? { dictionaries: spec.dictionaries.map(dict) } : {}),
  };
}

interface AugmentSummaryLike {
  method: string; rows_before: number; rows_after: number; added: number; duplicates_dropped: number;
}

/** One line per method for the data report: "augment eda: 200 rows -> 987 (787 added, 13 duplicates dropped)". */
export function formatAugmentSummary(s: AugmentSummaryLike): string {
  return `augment ${s.method}: ${s.rows_before} training rows -> ${s.rows_after} ` +
    `(${s.added} added, ${s.duplicates_dropped} duplicates dropped)`;
}

/** A knob that is a share or probability: a number in [0, 1]; `what` names the method in the message. */
export function checkUnit(what: string, name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0 && value <= 1)) {
    throw new WhetError(`${what}: ${name} must be a number in [0, 1], got ${value}`);
  }
}

/** A count such as num_aug: a whole number >= 1. */
export function checkCount(what: string, name: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new WhetError(`${what}: ${name} must be a whole number >= 1, got ${value}`);
  }
}

const unit = () => z.number().min(0).max(1).optional();
/**
 * The run config's `augment:` block, for the JSON Schema (editor completion) and a first check of
 * types; parseAugmentSpec then checks which options belong to which method.
 *
 * @example
 * AugmentConfigSchema.parse({ method: "eda", num_aug: 2 }); // the run config's augment: block, typed
 */
export const AugmentConfigSchema = z.object({
  method: z.enum(AUGMENT_METHODS).describe("eda, template, back-translation or code-switch"),
  num_aug: z.number().int().positive().optional().describe("augmented rows per training row (eda: 4; others: 1)"),
  alpha_sr: unit().describe("eda: share of words replaced by WordNet synonyms (0.1)"),
  alpha_ri: unit().describe("eda: share of words inserted (0.1)"),
  alpha_rs: unit().describe("eda: share of words swapped (0.1)"),
  p_rd: unit().describe("eda: probability of deleting each word (0.1)"),
  templates: z.string().min(1).optional().describe("template: YAML file of templates with {slots}"),
  max_per_template: z.number().int().positive().optional().describe("template: examples per template at most (100)"),
  dictionaries: z.array(z.string().min(1)).min(1).optional()
    .describe("code-switch: MUSE dictionaries (\"src tgt\" per line); \"lang=path\" names the language"),
  ratio: unit().describe("code-switch: probability that a sentence is switched (1.0)"),
  cross: unit().describe("code-switch: probability that a word is replaced (0.9)"),
  back_translate: z.string().min(1).optional()
    .describe("back-translation: e.g. en-de (Helsinki-NLP/opus-mt-en-de and -de-en)"),
  pivot_models: z.array(z.string().min(1)).length(2).optional()
    .describe("back-translation: source→pivot and pivot→source models"),
  num_beams: z.number().int().positive().optional().describe("back-translation: beam width (default: the models' own)"),
  pair: z.enum(["first", "both"]).optional().describe("text pairs: augment the first text (default) or both"),
}).strict();
