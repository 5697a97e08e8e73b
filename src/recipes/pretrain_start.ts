// The model and tokenizer a pretraining run starts from: a pretrained masked-LM (continued
// pretraining), or a fresh config (copied from a model, or built from --model-type and sizes)
// with an existing tokenizer or a WordPiece vocabulary trained on the corpus.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError, WhetError } from "../core/errors.js";
import { readConfig, type PretrainedConfig } from "../io/config.js";
import { resolveModel } from "../io/hub.js";
import { createModel, dropoutOverrides, FAMILIES, familyOf, familySize, SIZE_KEYS, type SizeKey, type TaskModel } from "../models/auto.js";
import { fromPretrained } from "../models/pretrained.js";
import { loadTokenizer, type Tokenizer } from "../tokenizers/index.js";
import { trainWordPiece } from "../tokenizers/train_wordpiece.js";
import type { TrainingArguments } from "../train/arguments.js";

/** Architecture flags, spelled as BERT's config.json keys; each family maps them onto its own (DistilBERT: dim, n_layers…). */
export const ARCH_KEYS = SIZE_KEYS;
export type ArchKey = SizeKey;
/** Model types whose tokenizer is WordPiece, the only kind --train-tokenizer makes. */
const WORDPIECE_TYPES = Object.values(FAMILIES).filter((f) => f.tokenizer === "wordpiece").map((f) => f.modelType);

export interface StartSpec {
  /** Continue pretraining this masked-LM (folder or Hub id). */
  model?: string;
  /** Fresh weights with this model's config (folder or Hub id). */
  configFrom?: string;
  /** Fresh weights with transformers' default config of this type (e.g. bert: 768 hidden, 12 layers). */
  modelType?: string;
  /** Config keys to change (fresh models only). */
  architecture?: Partial<Record<ArchKey, number>>;
  /** A tokenizer folder or Hub id (fresh models; default: the --config-from model's). */
  tokenizer?: string;
  trainTokenizer?: boolean;
  vocabSize?: number;
  lowercase?: boolean;
}

export interface Start {
  model: TaskModel;
  tokenizer: Tokenizer;
  /** What the run started from, for run.json and the log. */
  description: string;
  /** Parameters the checkpoint did not have (continued pretraining of a non-MLM checkpoint). */
  initialized: string[];
}

/** Check the flags' combination before any work. */
export function checkStart(s: StartSpec): void {
  const sources = [s.model && "--model", s.configFrom && "--config-from", s.modelType && "--model-type"].filter(Boolean);
  if (sources.length !== 1) {
    throw new UsageError(`pretrain: give exactly one of --model (continue pretraining), --config-from (fresh weights, that model's config) or --model-type (fresh weights, default config); got ${sources.length ? sources.join(" and ") : "none"}`);
  }
  if (s.model && (s.trainTokenizer || s.tokenizer || Object.keys(s.architecture ?? {}).length)) {
    throw new UsageError("pretrain: --model continues pretraining with the model's own tokenizer and sizes; --train-tokenizer, --tokenizer and size flags go with --config-from or --model-type");
  }
  if (s.modelType && !Object.hasOwn(FAMILIES, s.modelType)) {
    throw new UsageError(`pretrain: --model-type "${s.modelType}" is not supported (supported: ${Object.keys(FAMILIES).join(", ")})`);
  }
  if (s.modelType && !s.trainTokenizer && !s.tokenizer) throw new UsageError("pretrain: --model-type needs a tokenizer: --train-tokenizer (with --vocab-size) or --tokenizer DIR_OR_ID");
  if (s.trainTokenizer && s.tokenizer) throw new UsageError("pretrain: give --train-tokenizer or --tokenizer, not both");
  if (s.vocabSize !== undefined && !s.trainTokenizer) throw new UsageError("pretrain: --vocab-size sets the size of a trained vocabulary: add --train-tokenizer");
  for (const [k, v] of Object.entries(s.architecture ?? {})) {
    if (!Number.isInteger(v) || (v as number) <= 0) throw new UsageError(`pretrain: --${k.replace(/_/g, "-")} must be a positive integer, got ${v}`);
  }
}

/** The config of a fresh model: the base's architecture keys, no task head or label keys. */
function freshConfig(base: PretrainedConfig, arch: StartSpec["architecture"]): PretrainedConfig {
  const c: PretrainedConfig = { ...base };
  for (const k of ["architectures", "id2label", "label2id", "num_labels", "problem_type", "_name_or_path", "torch_dtype", "transformers_version"]) delete c[k];
  const fam = familyOf(c);
  for (const [k, v] of Object.entries(arch ?? {})) c[fam.sizeKeys[k as ArchKey]] = v;
  const hidden = familySize(fam, c, "hidden_size"), heads = familySize(fam, c, "num_attention_heads");
  if (hidden && heads && hidden % heads !== 0) throw new WhetError(`pretrain: hidden size ${hidden} is not a multiple of the number of attention heads ${heads}`);
  return c;
}

/**
 * Build the starting model and tokenizer. `documents` feed the vocabulary trainer; on a resumed
 * run the trained vocabulary is read back from the checkpoint instead (training it again could
 * give other ids than the checkpoint's embeddings were trained with).
 */
export async function prepareStart(s: StartSpec, documents: readonly string[], args: TrainingArguments, resumeDir: string | null, log: (l: string) => void): Promise<Start> {
  checkStart(s);
  if (s.model) {
    const dir = await resolveModel(s.model);
    const type = readConfig(dir).model_type;
    const overrides = dropoutOverrides(type, { hidden: args.hidden_dropout_prob, attention: args.attention_dropout_prob });
    const { model, report } = await fromPretrained(dir, { task: "masked-lm", seed: args.seed, configOverrides: overrides });
    return { model, tokenizer: await loadTokenizer(dir), description: `continued pretraining of ${s.model}`, initialized: report.initialized };
  }
  let base: PretrainedConfig, tokSource: string | undefined = s.tokenizer;
  if (s.configFrom) {
    const dir = await resolveModel(s.configFrom);
    base = readConfig(dir);
    tokSource ??= s.trainTokenizer ? undefined : dir;
  } else base = { model_type: s.modelType! };
  const config = freshConfig(base, s.architecture);
  let tokenizer: Tokenizer;
  if (s.trainTokenizer) {
    if (!WORDPIECE_TYPES.includes(config.model_type)) {
      throw new WhetError(`pretrain: --train-tokenizer trains a WordPiece vocabulary, which ${config.model_type} does not use; give --tokenizer DIR_OR_ID instead (one of ${WORDPIECE_TYPES.join(", ")} can train its own)`);
    }
    if (resumeDir) {
      tokenizer = await loadTokenizer(resumeDir);
      log(`resuming: the vocabulary (${tokenizer.totalVocabSize} tokens) is read from ${resumeDir}`);
    } else {
      const tmp = mkdtempSync(join(tmpdir(), "whet-vocab-"));
      try {
        const t0 = Date.now();
        tokenizer = await trainWordPiece(documents, tmp, { vocabSize: s.vocabSize ?? 30000, lowercase: s.lowercase ?? true, modelMaxLength: args.max_length });
        log(`trained a WordPiece vocabulary of ${tokenizer.totalVocabSize} tokens on ${documents.length} documents in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  } else {
    tokenizer = await loadTokenizer(await resolveModel(tokSource!));
  }
  config.vocab_size = Math.max(tokenizer.totalVocabSize, s.trainTokenizer ? 0 : Number(config.vocab_size ?? 0));
  const pad = tokenizer.padTokenId;
  if (pad !== undefined) config.pad_token_id = pad;
  Object.assign(config, dropoutOverrides(config.model_type, { hidden: args.hidden_dropout_prob, attention: args.attention_dropout_prob }));
  const model = createModel(config, "masked-lm", args.seed);
  return { model, tokenizer, description: `fresh ${config.model_type} from ${s.configFrom ? `the config of ${s.configFrom}` : "defaults"}`, initialized: [] };
}
