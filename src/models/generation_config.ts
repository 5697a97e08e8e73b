// transformers' GenerationConfig (v4.30), the members an encoder-decoder's greedy and beam search use:
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/generation/configuration_utils.py
// A checkpoint's generation_config.json gives the defaults; without one they come from config.json
// (GenerationConfig.from_model_config); the caller's options win over both.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";

export type EarlyStopping = boolean | "never";

/** generation_config.json keys, verbatim (snake case, as transformers writes them). */
export interface GenerationConfig {
  max_length: number;
  max_new_tokens: number | null;
  min_length: number;
  num_beams: number;
  length_penalty: number;
  early_stopping: EarlyStopping;
  decoder_start_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
  forced_eos_token_id: number | null;
  bad_words_ids: number[][] | null;
  num_return_sequences: number;
  /** Sample instead of taking the best token (one beam only), after the temperature / top-k / top-p warpers. */
  do_sample: boolean;
  temperature: number;
  top_k: number;
  top_p: number;
  /** whet's own: the seed of the sampling stream (transformers uses torch's global generator). */
  seed: number;
}

/** What a caller may override, camel case as the rest of whet's API. */
export interface GenerateOptions {
  maxLength?: number;
  /** Tokens to generate after the decoder start token; wins over maxLength (max_length = 1 + maxNewTokens). */
  maxNewTokens?: number;
  minLength?: number;
  numBeams?: number;
  /** Exponent of the length in a finished hypothesis' score (sum of log-probs ÷ length^penalty). */
  lengthPenalty?: number;
  /**
   * true: a row stops at num_beams finished hypotheses; false: when no open beam can win any more
   * (bounded by the current length); "never": the same with the bound at max_length.
   */
  earlyStopping?: EarlyStopping;
  badWordsIds?: number[][] | null;
  forcedEosTokenId?: number | null;
  /** Sample (with one beam): temperature, topK (default 50, 0: off) and topP (default 1: off) shape the distribution. */
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Seed of the sampling stream: the same seed, texts and batch size give the same samples. */
  seed?: number;
}

const DEFAULTS: Omit<GenerationConfig, "decoder_start_token_id" | "eos_token_id" | "pad_token_id"> = {
  max_length: 20,
  max_new_tokens: null,
  min_length: 0,
  num_beams: 1,
  length_penalty: 1.0,
  early_stopping: false,
  forced_eos_token_id: null,
  bad_words_ids: null,
  num_return_sequences: 1,
  do_sample: false,
  temperature: 1.0,
  top_k: 50,
  top_p: 1.0,
  seed: 0,
};

/** Keys of the generation config that whet implements; others must keep transformers' default. */
const UNSUPPORTED: Record<string, unknown> = {
  num_beam_groups: 1,
  repetition_penalty: 1.0,
  no_repeat_ngram_size: 0,
  encoder_no_repeat_ngram_size: 0,
  diversity_penalty: 0.0,
  penalty_alpha: null,
  forced_bos_token_id: null,
  suppress_tokens: null,
  begin_suppress_tokens: null,
  forced_decoder_ids: null,
  exponential_decay_length_penalty: null,
  min_new_tokens: null,
  encoder_repetition_penalty: 1.0,
  constraints: null,
  force_words_ids: null,
};

/** Reads a JSON file that must hold an object (config.json, generation_config.json). */
export function readObject(path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new WhetError(`reading ${path}: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new WhetError(`reading ${path}: expected a JSON object`);
  return raw as Record<string, unknown>;
}

function intOr(v: unknown, fallback: number | null, key: string, where: string): number | null {
  if (v === undefined) return fallback;
  if (v === null) return null;
  if (!Number.isInteger(v)) throw new WhetError(`${where}: "${key}" must be an integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * The generation defaults of a model folder: generation_config.json when present, otherwise the
 * generation keys of config.json, as transformers 4.30 derives them.
 *
 * @example
 * const defaults = readGenerationConfig(dir, readConfig(dir) as Record<string, unknown>); // defaults.num_beams…
 */
export function readGenerationConfig(dir: string, modelConfig: Record<string, unknown>): GenerationConfig {
  const path = join(dir, "generation_config.json");
  const src = existsSync(path) ? readObject(path) : modelConfig;
  const where = existsSync(path) ? path : join(dir, "config.json");
  return fromObject(src, modelConfig, where);
}

/** A GenerationConfig from snake-case keys; token ids missing there come from the model config. */
export function fromObject(
  src: Record<string, unknown>,
  modelConfig: Record<string, unknown>,
  where: string,
): GenerationConfig {
  for (const [k, dflt] of Object.entries(UNSUPPORTED)) {
    if (k in src && src[k] !== dflt && JSON.stringify(src[k]) !== JSON.stringify(dflt)) {
      throw new WhetError(
        `${where}: "${k}" = ${JSON.stringify(src[k])} is not supported by whet's generate (it implements greedy and beam search); expected ${JSON.stringify(dflt)}`,
      );
    }
  }
  const token = (key: string) => {
    const v = intOr(src[key], intOr(modelConfig[key], null, key, where), key, where);
    if (v === null) throw new WhetError(`${where}: "${key}" is missing (needed to generate)`);
    return v;
  };
  const num = (key: keyof typeof DEFAULTS) => (src[key] === undefined ? DEFAULTS[key] : src[key]);
  const cfg: GenerationConfig = {
    ...DEFAULTS,
    max_length: num("max_length") as number,
    max_new_tokens: (src.max_new_tokens ?? null) as number | null,
    min_length: num("min_length") as number,
    num_beams: num("num_beams") as number,
    length_penalty: num("length_penalty") as number,
    early_stopping: num("early_stopping") as EarlyStopping,
    decoder_start_token_id: token("decoder_start_token_id"),
    eos_token_id: token("eos_token_id"),
    pad_token_id: token("pad_token_id"),
    forced_eos_token_id: intOr(src.forced_eos_token_id, null, "forced_eos_token_id", where),
    bad_words_ids: (src.bad_words_ids ?? null) as number[][] | null,
    num_return_sequences: num("num_return_sequences") as number,
    do_sample: num("do_sample") as boolean,
    temperature: num("temperature") as number,
    top_k: num("top_k") as number,
    top_p: num("top_p") as number,
  };
  validate(cfg, where);
  return cfg;
}

/**
 * The caller's options over a checkpoint's defaults, checked.
 *
 * @example
 * const config = withGenerationOptions(readGenerationConfig(dir, modelConfig), { numBeams: 4, maxNewTokens: 64 });
 */
export function withOptions(base: GenerationConfig, o: GenerateOptions, where = "generate options"): GenerationConfig {
  const cfg: GenerationConfig = { ...base };
  if (o.maxLength !== undefined) cfg.max_length = o.maxLength;
  if (o.maxNewTokens !== undefined) cfg.max_new_tokens = o.maxNewTokens;
  if (o.minLength !== undefined) cfg.min_length = o.minLength;
  if (o.numBeams !== undefined) cfg.num_beams = o.numBeams;
  if (o.lengthPenalty !== undefined) cfg.length_penalty = o.lengthPenalty;
  if (o.earlyStopping !== undefined) cfg.early_stopping = o.earlyStopping;
  if (o.badWordsIds !== undefined) cfg.bad_words_ids = o.badWordsIds;
  if (o.forcedEosTokenId !== undefined) cfg.forced_eos_token_id = o.forcedEosTokenId;
  if (o.doSample !== undefined) cfg.do_sample = o.doSample;
  if (o.temperature !== undefined) cfg.temperature = o.temperature;
  if (o.topK !== undefined) cfg.top_k = o.topK;
  if (o.topP !== undefined) cfg.top_p = o.topP;
  if (o.seed !== undefined) cfg.seed = o.seed;
  validate(cfg, where);
  return cfg;
}

/** The length limit generation runs to, counting the decoder start token (max_new_tokens wins). */
export function effectiveMaxLength(cfg: GenerationConfig): number {
  return cfg.max_new_tokens !== null ? 1 + cfg.max_new_tokens : cfg.max_length;
}

function validateSampling(c: GenerationConfig, where: string): void {
  if (typeof c.do_sample !== "boolean")
    throw new WhetError(`${where}: do_sample must be true or false, got ${JSON.stringify(c.do_sample)}`);
  if (c.do_sample && c.num_beams > 1)
    throw new WhetError(
      `${where}: sampling with num_beams ${c.num_beams} (beam sampling) is not supported: use num_beams 1 to sample`,
    );
  if (!(typeof c.temperature === "number" && c.temperature > 0))
    throw new WhetError(`${where}: temperature must be a positive number, got ${JSON.stringify(c.temperature)}`);
  if (!Number.isInteger(c.top_k) || c.top_k < 0)
    throw new WhetError(`${where}: top_k must be a non-negative integer, got ${JSON.stringify(c.top_k)}`);
  if (!(typeof c.top_p === "number" && c.top_p > 0 && c.top_p <= 1))
    throw new WhetError(`${where}: top_p must be in (0, 1], got ${JSON.stringify(c.top_p)}`);
  if (!Number.isInteger(c.seed))
    throw new WhetError(`${where}: seed must be an integer, got ${JSON.stringify(c.seed)}`);
}

function validate(c: GenerationConfig, where: string): void {
  validateSampling(c, where);
  const posInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;
  if (!posInt(c.num_beams))
    throw new WhetError(`${where}: num_beams must be a positive integer, got ${JSON.stringify(c.num_beams)}`);
  if (!posInt(c.max_length))
    throw new WhetError(`${where}: max_length must be a positive integer, got ${JSON.stringify(c.max_length)}`);
  if (c.max_new_tokens !== null && !posInt(c.max_new_tokens))
    throw new WhetError(`${where}: max_new_tokens must be a positive integer, got ${JSON.stringify(c.max_new_tokens)}`);
  if (!Number.isInteger(c.min_length) || c.min_length < 0)
    throw new WhetError(`${where}: min_length must be a non-negative integer, got ${JSON.stringify(c.min_length)}`);
  if (typeof c.length_penalty !== "number" || !Number.isFinite(c.length_penalty))
    throw new WhetError(`${where}: length_penalty must be a finite number, got ${JSON.stringify(c.length_penalty)}`);
  if (c.early_stopping !== true && c.early_stopping !== false && c.early_stopping !== "never") {
    throw new WhetError(
      `${where}: early_stopping must be true, false or "never", got ${JSON.stringify(c.early_stopping)}`,
    );
  }
  if (c.num_return_sequences !== 1)
    throw new WhetError(
      `${where}: num_return_sequences ${c.num_return_sequences} is not supported (whet returns the best sequence)`,
    );
  if (
    c.bad_words_ids !== null &&
    !(
      Array.isArray(c.bad_words_ids) &&
      c.bad_words_ids.every((w) => Array.isArray(w) && w.length > 0 && w.every((t) => Number.isInteger(t) && t >= 0))
    )
  ) {
    throw new WhetError(
      `${where}: bad_words_ids must be a list of non-empty lists of token ids, got ${JSON.stringify(c.bad_words_ids)}`,
    );
  }
}
