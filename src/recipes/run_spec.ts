/**
 * The validated run spec of a fine-tune: the run config's data keys (this zod schema) plus every
 * TrainingArguments key. `whet train` builds it from a YAML/JSON file and flags; a library user
 * or a hyperparameter search builds it from an object. The JSON Schema and the README's
 * reference are generated from these schemas (cli/run_schema.ts).
 *
 * @example
 * const spec = resolveRunSpec({ model: "prajjwal1/bert-mini", train_file: "train.csv", output_dir: "runs/a", learning_rate: 3e-5 });
 * const result = await finetune(spec);
 */
import { z } from "zod";
import { UsageError } from "../core/errors.js";
import { AugmentConfigSchema } from "../data/augment/augment_spec.js";
import { resolveArguments, type TrainingArguments } from "../train/arguments.js";

/**
 * Keys of a run config that describe the data and model rather than TrainingArguments: the
 * same names as `whet train`'s data flags (cli/schema.test.ts checks that both lists agree).
 *
 * @example
 * DataKeysSchema.parse({ model: "prajjwal1/bert-mini", train_file: "train.csv" }).text_column; // "text"
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
  quote: z.union([z.boolean(), z.string().length(1)]).optional()
    .describe("CSV/TSV quote character, true for \", false for none; default: \" for CSV, and for TSV only " +
      "when the file is clearly quoted (bare \" in texts, as in GLUE-style TSVs, stays text)"),
  header: z.boolean().default(true)
    .describe("whether the CSV/TSV starts with a header row; without one, columns are named by position " +
      "(text_column: \"0\", label_column: \"1\")"),
  problem_type: z.enum(["single_label_classification", "multi_label_classification", "regression"]).optional()
    .describe("transformers' problem_type, stored in config.json; default: lists → multi-label, numbers with a " +
      "fraction → regression (announced in the data report), anything else → single-label"),
  label_names: z.union([z.string().min(1), z.array(z.string()).min(1)]).optional()
    .describe("label names in id order: a comma list, a file (one per line) or a list; " +
      "names integer ner_tags (default: a tags.txt beside the data)"),
  strict: z.boolean().default(false).describe("stop at the first bad row (malformed, wrong number of fields, empty text, missing label) instead of skipping and counting it"),
  augment: AugmentConfigSchema.optional()
    .describe("augment the training split, after the validation split is held out: " +
      "{method: eda|template|back-translation|code-switch, …} (README: Data augmentation)"),
  peft: z.union([z.enum(["lora", "ia3", "prompt_tuning", "prefix_tuning", "bottleneck"]), z.record(z.string(), z.unknown())]).optional()
    .describe("train an adapter instead of the whole model: a method name, or PEFT's adapter_config.json keys (peft_type, r, lora_alpha, target_modules, …)"),
  adapter: z.string().min(1).optional().describe("a saved adapter folder (PEFT layout) loaded onto model and trained further"),
}).strict();

export const DATA_KEYS: readonly string[] = Object.keys(DataKeysSchema.shape);

/**
 * Keys `whet train` needs from the file or a flag. The JSON Schema does not list them as
 * "required" (a file may leave them to flags); the reference table says so instead.
 */
export const TRAIN_REQUIRES: readonly string[] = ["model", "train_file", "output_dir"];

export type DataKeys = z.output<typeof DataKeysSchema>;

/** A validated fine-tuning run: where the model and data are, and the training arguments. */
export interface RunSpec extends DataKeys {
  model: string;
  train_file: string;
  args: TrainingArguments;
  /**
   * Training-argument keys the input set itself (the rest are defaults), so a recipe may choose a
   * better default (learning_rate by model size). Absent: every key counts as set.
   */
  argsGiven?: readonly string[];
}

const flag = (k: string) => `--${k.replace(/_/g, "-")}`;

/**
 * Validate a flat run config (data keys and TrainingArguments keys together, snake_case) into a
 * RunSpec. Errors name the key as the flag a command-line user types, and `source` says where
 * the values came from.
 */
export function resolveRunSpec(input: Readonly<Record<string, unknown>>, source = "train"): RunSpec {
  const data: Record<string, unknown> = {}, training: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if (DATA_KEYS.includes(k)) data[k] = v;
    else training[k] = v;
  }
  const parsed = DataKeysSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${flag(String(i.path[0] ?? ""))}: ${i.message}`);
    throw new UsageError(`${source}: ${problems.join("; ")}`);
  }
  const keys = parsed.data;
  // All the missing ones at once: a user should not discover them one run at a time.
  const missing = TRAIN_REQUIRES.filter((k) => (k === "output_dir" ? training[k] : keys[k as keyof DataKeys]) === undefined);
  let args: TrainingArguments | undefined, argError: Error | undefined;
  try {
    args = resolveArguments(missing.includes("output_dir") ? { ...training, output_dir: "-" } : training, source);
  } catch (e) {
    argError = e as Error;
  }
  if (missing.length > 0) {
    throw new UsageError(`${source}: missing required ${missing.length === 1 ? "option" : "options"} ` +
      `${missing.map(flag).join(", ")} (--model: a folder or a Hub id; --train-file: a .csv, .tsv or .jsonl file; ` +
      `--output-dir: where the run is written)${argError ? `; and ${argError.message}` : ""}`);
  }
  if (argError || !args || !keys.model || !keys.train_file) throw argError ?? new UsageError(`${source}: incomplete run spec`);
  return { ...keys, model: keys.model, train_file: keys.train_file, args, argsGiven: Object.keys(training) };
}
