/**
 * The run config (`whet train --config run.yaml`) described once, for machines and people: the
 * data keys below plus every TrainingArguments key, with zod's `.describe()` texts and defaults.
 * The JSON Schema shipped in `schema/whet-run.schema.json` (editor completion), the README's
 * configuration reference and `whet init`'s starter file are all generated from here, so none of
 * them can drift from what `whet train` accepts (schema.test.ts fails when a committed copy is stale).
 *
 * @example
 * const schema = runConfigJsonSchema();       // JSON Schema (draft 2020-12)
 * const table = configReferenceMarkdown();    // the README's reference tables
 */
import { z } from "zod";
import { TrainingArgumentsSchema } from "../train/arguments.js";

/**
 * Keys of a run config that describe the data and model rather than TrainingArguments: the
 * same names as `whet train`'s data flags (schema.test.ts checks that both lists agree).
 */
export const DataKeysSchema = z.object({
  model: z.string().min(1).optional().describe("pretrained model folder or Hub id (org/name[@revision])"),
  task: z.enum(["sequence-classification", "token-classification"]).default("sequence-classification")
    .describe("what to fine-tune for: a label per text, or a tag per word (NER; CoNLL or JSON Lines tokens/ner_tags)"),
  train_file: z.string().min(1).optional().describe("training data (.csv, .tsv, .jsonl; CoNLL for token classification)"),
  validation_file: z.string().min(1).optional().describe("evaluation data; default: a stratified split of the training data"),
  validation_split: z.number().positive().default(0.1).describe("share (or number) of training rows held out when no validation_file is given"),
  text_column: z.string().min(1).default("text").describe("column holding the text"),
  text_pair_column: z.string().min(1).optional().describe("column holding the second text of a pair (NLI, paraphrase)"),
  label_column: z.string().min(1).default("label").describe("column holding the label"),
  label_separator: z.string().min(1).optional().describe("multi-label: separator inside the label field, e.g. \"|\""),
  strict: z.boolean().default(false).describe("stop at the first bad row (malformed, wrong number of fields, empty text, missing label) instead of skipping and counting it"),
}).strict();

export const DATA_KEYS: readonly string[] = Object.keys(DataKeysSchema.shape);

/**
 * Keys `whet train` needs from the file or a flag. The JSON Schema does not list them as
 * "required" (a file may leave them to flags); the reference table says so instead.
 */
export const TRAIN_REQUIRES: readonly string[] = ["model", "train_file", "output_dir"];

/**
 * Explanations for the TrainingArguments that carry no `.describe()` yet. Used only where the
 * schema has none, so a description added in src/train/arguments.ts wins; schema.test.ts checks
 * that every key ends up with one.
 */
const FALLBACK: Record<string, string> = {
  per_device_train_batch_size: "examples per training batch (an optimizer step sees this × gradient_accumulation_steps)",
  per_device_eval_batch_size: "examples per evaluation batch",
  warmup_ratio: "share of the total steps over which the learning rate rises linearly from 0",
  lr_scheduler_type: "how the learning rate decays after warm-up",
  weight_decay: "AdamW weight decay (biases and LayerNorm weights get none)",
  adam_beta1: "AdamW decay rate of the first moment",
  adam_beta2: "AdamW decay rate of the second moment",
  adam_epsilon: "AdamW epsilon, added to the denominator",
  gradient_accumulation_steps: "batches whose gradients are summed before each optimizer step",
  eval_strategy: "when to evaluate: never, every eval_steps steps, or after each epoch",
  eval_steps: "steps between evaluations when eval_strategy is steps (default: logging_steps)",
  save_strategy: "when to save a checkpoint: never, every save_steps steps, each epoch, or when the metric improves",
  save_steps: "steps between checkpoints when save_strategy is steps",
  load_best_model_at_end: "finish with the weights of the best evaluation (by metric_for_best_model)",
  greater_is_better: "whether a larger metric_for_best_model is better (default: false for losses, true otherwise)",
  early_stopping_threshold: "smallest improvement that resets the early-stopping patience",
  logging_steps: "steps between training log entries (trainer_log.jsonl)",
  seed: "seed of weight initialization, dropout and the validation split",
  label_smoothing_factor: "label smoothing of the cross-entropy loss",
  hidden_dropout_prob: "dropout inside the encoder (default: the model's config.json)",
  attention_dropout_prob: "dropout of the attention probabilities (default: the model's config.json)",
  classifier_dropout_prob: "dropout before the classification head (default: the model's config.json)",
  max_length: "tokens per example, special tokens included; longer inputs are truncated",
  train_sampling: "order of training examples: shuffled every epoch, file order, or grouped by length",
};

/** One JSON Schema property, as far as this module reads it. */
export interface JsonProp {
  /** A list where zod merges a union of plain types (`["string", "boolean"]`). */
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonProp[];
  items?: JsonProp;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  [k: string]: unknown;
}

export interface RunConfigJsonSchema {
  $schema: string;
  title: string;
  description: string;
  type: "object";
  properties: Record<string, JsonProp>;
  additionalProperties: false;
}

/** Bounds that only restate "a safe integer" (zod's int()): noise in completion pop-ups. */
function dropSafeIntBounds(p: JsonProp): JsonProp {
  const out: JsonProp = { ...p };
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  if (out.anyOf) out.anyOf = out.anyOf.map(dropSafeIntBounds);
  if (out.items) out.items = dropSafeIntBounds(out.items);
  return out;
}

/** The run config's JSON Schema: data keys first, then TrainingArguments in declaration order. */
export function runConfigJsonSchema(): RunConfigJsonSchema {
  const all = z.object({ ...DataKeysSchema.shape, ...TrainingArgumentsSchema.shape }).strict();
  const raw = z.toJSONSchema(all, { io: "input" }) as { properties: Record<string, JsonProp> };
  const properties: Record<string, JsonProp> = {};
  for (const [name, p] of Object.entries(raw.properties)) {
    const description = p.description ?? FALLBACK[name];
    // Key order: description first reads best in a raw file; the rest as zod wrote it.
    properties[name] = dropSafeIntBounds({ ...(description ? { description } : {}), ...p });
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "whet run config",
    // No "required": a config file may leave anything (output_dir, model…) to command-line flags.
    description: "Options of `whet train --config FILE` (YAML or JSON). Keys are snake_case; each is also a " +
      "kebab-case flag of whet train (learning_rate → --learning-rate), and flags override the file.",
    type: "object",
    properties,
    additionalProperties: false,
  };
}

/** The committed file's exact text (2-space JSON, final newline). */
export function runConfigSchemaText(): string {
  return JSON.stringify(runConfigJsonSchema(), null, 2) + "\n";
}

/** A number as people write it in configs: 2e-5 rather than 0.00002. */
export function formatNumber(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

/** A default value for YAML and the docs; undefined when the key has none. */
export function formatValue(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** A short type: `integer > 0`, `number in [0, 1]`, `linear | cosine`, `number[] | "balanced"`. */
export function typeText(p: JsonProp): string {
  if (p.anyOf) return p.anyOf.map(typeText).join(" | ");
  if (p.enum) return p.enum.map((v) => String(v)).join(" | ");
  if (p.const !== undefined) return JSON.stringify(p.const);
  if (Array.isArray(p.type)) return p.type.join(" | ");
  if (p.type === "array") {
    const item = p.items ? typeText(p.items) : "any";
    return item.includes(" ") ? `(${item})[]` : `${item}[]`;
  }
  let t = p.type ?? "any";
  const lo = p.exclusiveMinimum ?? p.minimum, hi = p.exclusiveMaximum ?? p.maximum;
  if (lo !== undefined && hi !== undefined) {
    t += ` in ${p.exclusiveMinimum !== undefined ? "(" : "["}${formatNumber(lo)}, ${formatNumber(hi)}${p.exclusiveMaximum !== undefined ? ")" : "]"}`;
  } else if (lo !== undefined) t += ` ${p.exclusiveMinimum !== undefined ? ">" : "≥"} ${formatNumber(lo)}`;
  else if (hi !== undefined) t += ` ${p.exclusiveMaximum !== undefined ? "<" : "≤"} ${formatNumber(hi)}`;
  return t;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (s: string) => `\`${s}\``;

/** The README's configuration reference: one table for the data keys, one for TrainingArguments. */
export function configReferenceMarkdown(): string {
  const { properties } = runConfigJsonSchema();
  const table = (names: string[]) => [
    "| Name | Type | Default | Description |",
    "| ---- | ---- | ------- | ----------- |",
    ...names.map((n) => {
      const p = properties[n];
      const d = formatValue(p.default);
      const dflt = d !== undefined ? cell(code(d)) : TRAIN_REQUIRES.includes(n) ? "required" : "—";
      return `| ${code(n)} | ${cell(typeText(p))} | ${dflt} | ${cell(p.description ?? "")} |`;
    }),
  ].join("\n");
  const names = Object.keys(properties);
  return [
    "<!-- Generated from the zod schemas by scripts/gen-config-docs.mjs (npm run gen:schema); do not edit by hand. -->",
    "",
    "Keys of a run config (`whet train --config run.yaml`, YAML or JSON; `whet init` writes a commented",
    "starter). Each key is also a flag of `whet train` in kebab case (`learning_rate` → `--learning-rate`),",
    "and flags override the file; keys marked required may come from either. Editors complete and",
    "check the keys with [`schema/whet-run.schema.json`](schema/whet-run.schema.json) (the",
    "`# yaml-language-server: $schema=…` line that `whet init` writes points them to it).",
    "",
    "Data and model:",
    "",
    table(names.filter((n) => DATA_KEYS.includes(n))),
    "",
    "Training arguments (transformers' `TrainingArguments` names):",
    "",
    table(names.filter((n) => !DATA_KEYS.includes(n))),
  ].join("\n");
}

export const DOCS_START = "<!-- config-reference:start -->";
export const DOCS_END = "<!-- config-reference:end -->";

/** `text` with the block between the markers replaced by `block`; throws when the markers are missing. */
export function replaceMarkedBlock(text: string, block: string): string {
  const a = text.indexOf(DOCS_START), b = text.indexOf(DOCS_END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the markers ${DOCS_START} … ${DOCS_END}`);
  return `${text.slice(0, a + DOCS_START.length)}\n${block}\n${text.slice(b)}`;
}
