import { z } from "zod";
import { UsageError } from "../core/errors.js";

/** Integrations `report_to` may name; "all" is every one of them, as in transformers. */
const REPORT_TARGETS = ["none", "all", "tensorboard"] as const;

/**
 * Training arguments, named as transformers' TrainingArguments names them (the command line
 * spells them in kebab case). Defaults follow the BERT fine-tuning recipe: lr 2e-5, batch 32,
 * 3 epochs, 10% warm-up, weight decay 0.01, clipping at 1.0, max length 128.
 *
 * @example
 * Object.keys(TrainingArgumentsSchema.shape); // every TrainingArguments name: learning_rate, num_train_epochs…
 * TrainingArgumentsSchema.shape.warmup_ratio.description; // the help text `whet train --help` shows
 */
export const TrainingArgumentsSchema = z.object({
  output_dir: z.string().min(1).describe("where checkpoints, logs and the final model go"),
  overwrite_output_dir: z.boolean().default(false).describe("allow writing over a finished run"),
  learning_rate: z.number().positive().default(2e-5)
    .describe("peak learning rate of AdamW; unset, models of hidden size <= 128 train at 1e-3 and <= 256 at 1e-4"),
  per_device_train_batch_size: z.number().int().positive().default(32),
  per_device_eval_batch_size: z.number().int().positive().default(64),
  num_train_epochs: z.number().positive().default(3).describe("epochs (may be fractional); ignored when max_steps > 0"),
  max_steps: z.number().int().default(-1).describe("total optimizer steps; overrides num_train_epochs when > 0"),
  warmup_ratio: z.number().min(0).max(1).default(0.1),
  warmup_steps: z.number().int().min(0).default(0).describe("overrides warmup_ratio when > 0"),
  lr_scheduler_type: z.enum(["linear", "cosine", "constant", "constant_with_warmup", "polynomial"]).default("linear"),
  weight_decay: z.number().min(0).default(0.01),
  adam_beta1: z.number().min(0).max(1).default(0.9),
  adam_beta2: z.number().min(0).max(1).default(0.999),
  adam_epsilon: z.number().positive().default(1e-8),
  max_grad_norm: z.number().min(0).default(1.0).describe("global-norm clipping; 0 turns it off"),
  gradient_accumulation_steps: z.number().int().positive().default(1),
  eval_strategy: z.enum(["no", "steps", "epoch"]).default("epoch"),
  eval_steps: z.number().int().positive().optional(),
  save_strategy: z.enum(["no", "steps", "epoch", "best"]).default("epoch"),
  save_steps: z.number().int().positive().default(500),
  save_total_limit: z.number().int().positive().optional().describe("keep at most this many checkpoints (never deleting the best)"),
  load_best_model_at_end: z.boolean().default(false),
  metric_for_best_model: z.string().optional().describe("a metric name without the eval_ prefix, e.g. accuracy, f1, loss"),
  greater_is_better: z.boolean().optional().describe("whether a larger metric_for_best_model is better (false by default for loss, perplexity, mse, mae and rmse)"),
  early_stopping_patience: z.number().int().positive().optional().describe("evaluations without improvement before stopping"),
  early_stopping_threshold: z.number().min(0).default(0),
  logging_steps: z.number().int().positive().default(10),
  logging_dir: z.string().optional().describe("TensorBoard log folder (default: output_dir/runs/<date>_<host>)"),
  report_to: z.union([z.enum(REPORT_TARGETS), z.array(z.enum(REPORT_TARGETS))]).default("none")
    .describe("where logs go besides trainer_log.jsonl: none, tensorboard or all"),
  seed: z.number().int().min(0).default(42),
  data_seed: z.number().int().min(0).optional().describe("seed of the training order; default: seed"),
  label_smoothing_factor: z.number().min(0).max(1).default(0),
  class_weights: z.union([z.array(z.number().positive()), z.literal("balanced")]).optional().describe("per-class loss weights, or balanced (n / (k · count))"),
  hidden_dropout_prob: z.number().min(0).max(1).optional(),
  attention_dropout_prob: z.number().min(0).max(1).optional(),
  classifier_dropout_prob: z.number().min(0).max(1).optional(),
  max_length: z.number().int().positive().default(128),
  train_sampling: z.enum(["random", "sequential", "group_by_length"]).default("random"),
  group_by_length: z.boolean().optional().describe("true = train_sampling group_by_length (transformers' name): batches of similar lengths, less padding"),
  resume_from_checkpoint: z.union([z.string(), z.boolean()]).optional().describe("a checkpoint folder, or true for the latest in output_dir"),
  threads: z.number().int().positive().optional().describe("ONNX Runtime intra-op threads (default: all cores)"),
  freeze: z.array(z.string().min(1)).optional()
    .describe("modules never trained: names matched on . boundaries (embeddings, encoder.layer.0, layer.0.attention) or a regex (full match)"),
  layerwise_lr_decay: z.number().gt(0).max(1).optional()
    .describe("layer-wise lr decay D: the head gets learning_rate, encoder layer i of L lr·D^(L−i), the embeddings lr·D^(L+1)"),
  gradual_unfreezing: z.boolean().default(false)
    .describe("train the head alone first, then unfreeze one more encoder layer from the top each epoch (the lowest with the embeddings)"),
  unfreeze_every_steps: z.number().int().positive().optional()
    .describe("gradual unfreezing by optimizer steps instead of epochs: one more layer every N steps"),
  param_groups: z.array(z.object({
    match: z.string().min(1).describe("module or parameter names, as in freeze"),
    learning_rate: z.number().positive().optional().describe("this group's peak learning rate (scheduled like the others)"),
    weight_decay: z.number().min(0).optional().describe("this group's weight decay (for every matched parameter)"),
  }).strict()).optional()
    .describe("optimizer groups for what the flags don't cover; a parameter takes the first rule that matches it"),
}).strict();

export type TrainingArgumentsInput = z.input<typeof TrainingArgumentsSchema>;
export type TrainingArguments = z.output<typeof TrainingArgumentsSchema>;

export const ARGUMENT_NAMES: readonly string[] = Object.keys(TrainingArgumentsSchema.shape);
const PARAM_GROUP_KEYS = ["match", "learning_rate", "weight_decay"];
/** torch's param-group keys, which users will write here. */
const TORCH_GROUP_KEYS: Record<string, string> = { lr: "learning_rate", params: "match" };

/** The closest known name, for "did you mean …?" (Levenshtein distance at most a third of the length). */
export function suggestName(name: string, known: readonly string[] = ARGUMENT_NAMES): string | null {
  const norm = name.replace(/-/g, "_");
  let best: string | null = null, bestD = Infinity;
  for (const k of known) {
    const d = levenshtein(norm, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(norm.length / 3)) ? best : null;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** Metrics where smaller is better, besides every "…loss". */
const LOWER_IS_BETTER = ["mse", "mae", "rmse", "perplexity"];

/**
 * Validate and complete arguments before any work. Mistakes are explained, never silently
 * changed: unknown names get a suggestion, incompatible schedules say what to change.
 */
export function resolveArguments(input: Record<string, unknown>, source = "training arguments"): TrainingArguments {
  const r = TrainingArgumentsSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      if (i.code === "unrecognized_keys") {
        // Only param_groups entries are nested objects: an unknown key there is named with its entry.
        const inside = i.path.length ? `${i.path.join(".")} (--${String(i.path[0]).replace(/_/g, "-")}): ` : "";
        return i.keys.map((k) => {
          const s = inside ? (Object.hasOwn(TORCH_GROUP_KEYS, k) ? TORCH_GROUP_KEYS[k] : suggestName(k, PARAM_GROUP_KEYS)) : suggestName(k);
          return `${inside}unknown ${inside ? "key" : "argument"} "${k}"${s ? ` (did you mean ${s}?)` : ""}`;
        }).join("; ");
      }
      // Name the key as a run config spells it and as a flag, since either may have given it.
      const key = i.path.join(".") || "(root)";
      const flag = typeof i.path[0] === "string" ? ` (--${i.path[0].replace(/_/g, "-")})` : "";
      return `${key}${flag}: ${i.message}${"received" in i ? "" : ` (got ${JSON.stringify(pick(input, i.path))})`}`;
    });
    throw new UsageError(`${source}: ${lines.join("; ")}`);
  }
  const a = r.data;
  const problems: string[] = [];
  if (a.group_by_length) {
    if (input.train_sampling !== undefined && a.train_sampling !== "group_by_length") problems.push(`group_by_length asks for batches grouped by length but train_sampling is "${a.train_sampling}": give one of them`);
    a.train_sampling = "group_by_length";
  }
  if (a.eval_strategy === "steps" && a.eval_steps === undefined) a.eval_steps = a.logging_steps;
  if (a.load_best_model_at_end) {
    if (a.eval_strategy === "no") problems.push("load_best_model_at_end needs evaluations: set eval_strategy to epoch or steps");
    else if (a.save_strategy !== "best" && a.save_strategy !== a.eval_strategy) {
      problems.push(`load_best_model_at_end needs checkpoints where evaluations happen: save_strategy is "${a.save_strategy}" but eval_strategy is "${a.eval_strategy}" (use the same, or save_strategy best)`);
    } else if (a.save_strategy === "steps" && a.eval_strategy === "steps" && a.save_steps % (a.eval_steps ?? 1) !== 0) {
      problems.push(`load_best_model_at_end needs save_steps (${a.save_steps}) to be a multiple of eval_steps (${a.eval_steps})`);
    }
  }
  if (a.save_strategy === "best" && a.eval_strategy === "no") problems.push('save_strategy "best" needs evaluations: set eval_strategy to epoch or steps');
  if (a.early_stopping_patience !== undefined && a.eval_strategy === "no") problems.push("early stopping needs evaluations: set eval_strategy to epoch or steps");
  if (a.lr_scheduler_type === "polynomial" && a.learning_rate <= 1e-7) problems.push("the polynomial schedule decays to 1e-7: learning_rate must be larger");
  problems.push(...strategyProblems(a));
  if (problems.length) throw new UsageError(`${source}: ${problems.join("; ")}`);
  a.metric_for_best_model ??= "loss";
  a.metric_for_best_model = a.metric_for_best_model.replace(/^eval_/, "");
  a.greater_is_better ??= !(a.metric_for_best_model.endsWith("loss") || LOWER_IS_BETTER.includes(a.metric_for_best_model));
  a.data_seed ??= a.seed;
  return a;
}

/** Fine-tuning strategy settings that contradict each other or the schedule. */
function strategyProblems(a: TrainingArguments): string[] {
  const out: string[] = [];
  if (a.unfreeze_every_steps !== undefined && !a.gradual_unfreezing) out.push("unfreeze_every_steps (--unfreeze-every-steps) needs gradual_unfreezing (--gradual-unfreezing)");
  if (a.gradual_unfreezing && a.unfreeze_every_steps === undefined && a.max_steps <= 0 && a.num_train_epochs < 2) {
    out.push(`gradual_unfreezing (--gradual-unfreezing) unfreezes one layer per epoch: it needs num_train_epochs (--num-train-epochs) of 2 or more, got ${a.num_train_epochs} (or give unfreeze_every_steps)`);
  }
  return out;
}

function pick(o: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = o;
  for (const k of path) cur = cur && typeof cur === "object" ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

/** Steps and warm-up the run will take, from the dataset size. */
export function scheduleLength(a: TrainingArguments, trainRows: number): { stepsPerEpoch: number; totalSteps: number; warmupSteps: number; epochs: number } {
  const microPerEpoch = Math.ceil(trainRows / a.per_device_train_batch_size);
  const stepsPerEpoch = Math.max(1, Math.floor(microPerEpoch / a.gradient_accumulation_steps));
  const totalSteps = a.max_steps > 0 ? a.max_steps : Math.ceil(a.num_train_epochs * stepsPerEpoch);
  const epochs = a.max_steps > 0 ? Math.ceil(a.max_steps / stepsPerEpoch) : Math.ceil(a.num_train_epochs);
  const warmupSteps = a.warmup_steps > 0 ? a.warmup_steps : Math.ceil(a.warmup_ratio * totalSteps);
  return { stepsPerEpoch, totalSteps, warmupSteps, epochs };
}

/** Whether `report_to` asks for an integration ("all" names every one). */
export function reportsTo(a: Pick<TrainingArguments, "report_to">, target: "tensorboard"): boolean {
  const list = Array.isArray(a.report_to) ? a.report_to : [a.report_to];
  return list.includes(target) || list.includes("all");
}
