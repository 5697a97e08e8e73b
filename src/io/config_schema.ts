// config.json checked key by key before anything is built from it: types (a string "32" is not
// a size), ranges (no negative layer counts) and the documented size limits below, so that a
// wrong or hostile config fails with its key named instead of allocating gigabytes or running
// with a silently different architecture.
import { z } from "zod";
import { WhetError } from "../core/errors.js";

/**
 * Sizes no supported model comes near (xlm-roberta-large: vocab 250,002, hidden 1,024, 24
 * layers, 514 positions). They bound what a config may ask whet to allocate.
 */
export const CONFIG_LIMITS = {
  vocab_size: 1_000_000,
  hidden_size: 16_384,
  num_hidden_layers: 128,
  num_attention_heads: 256,
  intermediate_size: 65_536,
  max_position_embeddings: 65_536,
  type_vocab_size: 1_024,
  num_labels: 100_000,
  /** Parameters of the encoder as the config describes it (xlm-roberta-large: 560M). */
  parameters: 4_000_000_000,
} as const;

const size = (key: keyof typeof CONFIG_LIMITS) => z.number().int().min(1).max(CONFIG_LIMITS[key]);
const probability = z.number().min(0).max(1);
const tokenId = z.number().int().min(0).nullable();

const COMMON = {
  architectures: z.array(z.string()).optional(),
  id2label: z.record(z.string(), z.string()).optional(),
  label2id: z.record(z.string(), z.number().int().min(0)).optional(),
  num_labels: size("num_labels").optional(),
  pad_token_id: tokenId.optional(),
  bos_token_id: tokenId.optional(),
  eos_token_id: tokenId.optional(),
  vocab_size: size("vocab_size").optional(),
  max_position_embeddings: size("max_position_embeddings").optional(),
  initializer_range: z.number().positive().finite().optional(),
};

const GENERIC = z.looseObject(COMMON);

const BERT_LIKE = z.looseObject({
  ...COMMON,
  hidden_size: size("hidden_size").optional(),
  num_hidden_layers: size("num_hidden_layers").optional(),
  num_attention_heads: size("num_attention_heads").optional(),
  intermediate_size: size("intermediate_size").optional(),
  hidden_act: z.literal("gelu").optional(),
  hidden_dropout_prob: probability.optional(),
  attention_probs_dropout_prob: probability.optional(),
  classifier_dropout: probability.nullable().optional(),
  type_vocab_size: size("type_vocab_size").optional(),
  // LayerNorm divides by sqrt(var + eps): eps must be a small positive number, or outputs are NaN.
  layer_norm_eps: z.number().positive().max(1).optional(),
  position_embedding_type: z.literal("absolute").optional(),
});

const DISTILBERT = z.looseObject({
  ...COMMON,
  dim: size("hidden_size").optional(),
  n_layers: size("num_hidden_layers").optional(),
  n_heads: size("num_attention_heads").optional(),
  hidden_dim: size("intermediate_size").optional(),
  activation: z.literal("gelu").optional(),
  dropout: probability.optional(),
  attention_dropout: probability.optional(),
  seq_classif_dropout: probability.optional(),
  qa_dropout: probability.optional(),
  sinusoidal_pos_embds: z.boolean().optional(),
});

/** The architecture sizes of a config, whatever the family calls them. */
export interface ArchitectureSizes {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  positions: number;
}

/**
 * Checks the keys of a parsed config.json (model_type already known) and returns its sizes
 * (with transformers' defaults for absent keys). Errors name the file, the key, what was
 * expected and what was found.
 */
export function checkConfigKeys(c: Record<string, unknown>, source: string, defaults: ArchitectureSizes): ArchitectureSizes;
export function checkConfigKeys(c: Record<string, unknown>, source: string, defaults?: ArchitectureSizes): ArchitectureSizes | null;
export function checkConfigKeys(c: Record<string, unknown>, source: string, defaults?: ArchitectureSizes): ArchitectureSizes | null {
  const distil = c.model_type === "distilbert";
  // Another family (Marian, or one whet cannot build: the models' registry says so) has its own
  // size names: only the keys every transformers config shares are judged here.
  const r = (defaults === undefined ? GENERIC : distil ? DISTILBERT : BERT_LIKE).safeParse(c);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = issue.path.join(".");
    const got = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], c);
    throw new WhetError(`reading ${source}: "${key}" ${describeIssue(issue, key)}, got ${JSON.stringify(got)}`);
  }
  if (defaults === undefined) return null;
  const num = (k: string, d: number) => (typeof c[k] === "number" ? (c[k] as number) : d);
  const s: ArchitectureSizes = distil
    ? { vocab: num("vocab_size", defaults.vocab), hidden: num("dim", defaults.hidden), layers: num("n_layers", defaults.layers), heads: num("n_heads", defaults.heads), intermediate: num("hidden_dim", defaults.intermediate), positions: num("max_position_embeddings", defaults.positions) }
    : { vocab: num("vocab_size", defaults.vocab), hidden: num("hidden_size", defaults.hidden), layers: num("num_hidden_layers", defaults.layers), heads: num("num_attention_heads", defaults.heads), intermediate: num("intermediate_size", defaults.intermediate), positions: num("max_position_embeddings", defaults.positions) };
  const [hiddenKey, headsKey] = distil ? ["dim", "n_heads"] : ["hidden_size", "num_attention_heads"];
  if (s.hidden % s.heads !== 0) throw new WhetError(`reading ${source}: "${hiddenKey}" ${s.hidden} is not a multiple of "${headsKey}" ${s.heads}`);
  // PyTorch refuses it too (nn.Embedding's padding_idx); RoBERTa's positions start after it.
  if (typeof c.pad_token_id === "number" && c.pad_token_id >= s.vocab) {
    throw new WhetError(`reading ${source}: "pad_token_id" ${c.pad_token_id} is not a token of the ${s.vocab}-token vocabulary ` +
      `("vocab_size"); expected 0 to ${s.vocab - 1}`);
  }
  const params = s.vocab * s.hidden + s.positions * s.hidden + s.layers * (4 * s.hidden * s.hidden + 2 * s.hidden * s.intermediate);
  if (params > CONFIG_LIMITS.parameters) {
    throw new WhetError(`reading ${source}: the sizes describe a model of about ${(params / 1e9).toFixed(1)}B parameters, beyond whet's limit of ${CONFIG_LIMITS.parameters / 1e9}B`);
  }
  return s;
}

function describeIssue(issue: z.core.$ZodIssue, key: string): string {
  switch (issue.code) {
    case "invalid_type":
      return `must be ${article(issue.expected)}`;
    case "too_small":
      return `must be at least ${String(issue.minimum)}${issue.inclusive === false ? " (exclusive)" : ""}`;
    case "too_big":
      return `must be at most ${String(issue.maximum)}${key in CONFIG_LIMITS ? " (whet's documented limit)" : ""}`;
    case "invalid_value":
      return key === "position_embedding_type"
        ? 'must be "absolute" (relative_key / relative_key_query position embeddings are not implemented)'
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message.toLowerCase().startsWith("invalid input") ? "has the wrong form" : issue.message;
  }
}

function article(t: string): string {
  if (t === "int") return "an integer";
  if (t === "number") return "a number";
  if (t === "object" || t === "array") return `an ${t}`;
  return `a ${t}`;
}
