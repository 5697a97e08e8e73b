// loadTokenizer(dir): tokenizer.json when the folder has one, otherwise the equivalent built from
// the slow tokenizer's files (vocab.txt; vocab.json + merges.txt; sentencepiece.bpe.model), with
// tokenizer_config.json honoured the way transformers' *TokenizerFast constructors honour it.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { readJson, readTokenizerConfig, SPECIAL_TOKEN_KEYS, type ResolvedConfig } from "./tokenizer_config.js";
import { checkTokenizerJson } from "./tokenizer_json_check.js";
import { bertTokenizerJson, robertaTokenizerJson, slowFilesPresent, type AddedTokenJson, type TokenizerJson } from "./convert.js";
import { xlmrTokenizerJson } from "./sentencepiece.js";
import { Tokenizer } from "./tokenizer.js";
import { maxOf } from "../core/iter.js";

export interface LoadOptions {
  /**
   * tokenizer_config.json keys to override, like the kwargs of Python's `from_pretrained`:
   * `{ do_lower_case: false }`, `{ model_max_length: 128 }`, `{ pad_token: "[PAD]" }`.
   */
  config?: Record<string, unknown>;
}

/** Tokenizer classes per converter (transformers' SLOW_TO_FAST_CONVERTERS, the members whet knows). */
const BERT_LIKE = /^(Bert|DistilBert|Electra|LayoutLM|MobileBert|SqueezeBert|RetriBert)Tokenizer(Fast)?$/;
const ROBERTA_LIKE = /^(Roberta|Longformer|Bart)Tokenizer(Fast)?$/;
const XLMR_LIKE = /^XLMRobertaTokenizer(Fast)?$/;

/**
 * Load the tokenizer of a Hugging Face model folder.
 *
 * ```ts
 * const tok = await loadTokenizer("../shared/fixtures/hf/bert-seq");
 * (await tok.encode("hello world")).inputIds; // [2, ..., 3]
 * ```
 */
export async function loadTokenizer(dir: string, opts: LoadOptions = {}): Promise<Tokenizer> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new WhetError(`Tokenizer folder "${dir}" does not exist`);
  const cfg = readTokenizerConfig(dir, opts.config ?? {});
  const named = typeof cfg.raw.tokenizer_class === "string" ? cfg.raw.tokenizer_class : undefined;
  const jsonPath = join(dir, "tokenizer.json");
  if (existsSync(jsonPath)) {
    const json = readJson(jsonPath) as TokenizerJson;
    if (json === null || typeof json !== "object" || typeof json.model !== "object" || json.model === null) {
      throw new WhetError(`Tokenizer file "${jsonPath}" has no "model": not a tokenizers tokenizer.json`);
    }
    checkTokenizerJson(json, `Tokenizer file "${jsonPath}"`);
    json.added_tokens ??= [];
    applyConfig(json, cfg);
    inferSpecialTokens(json, cfg);
    addSpecialTokens(json, cfg);
    return build(json, cfg, named ?? inferClass(json), jsonPath);
  }

  const files = slowFilesPresent(dir);
  const kind =
    named !== undefined
      ? BERT_LIKE.test(named) ? "bert" : ROBERTA_LIKE.test(named) ? "roberta" : XLMR_LIKE.test(named) ? "xlmr" : "unknown"
      : files.vocabTxt ? "bert" : files.vocabJson && files.merges ? "roberta" : files.spm ? "xlmr" : "none";
  if (kind === "unknown") {
    throw new WhetError(`Cannot build a "${named}" from slow tokenizer files in "${dir}": whet converts Bert-, RoBERTa- and XLM-RoBERTa-style tokenizers; save it with tokenizer.json (a fast tokenizer's save_pretrained) instead`);
  }
  if (kind === "none") {
    const have = Object.entries(files).filter(([, v]) => v).map(([k]) => k);
    throw new WhetError(
      `No tokenizer in "${dir}": expected tokenizer.json, or vocab.txt (WordPiece), or vocab.json + merges.txt (byte-level BPE), or sentencepiece.bpe.model` +
        (have.length ? `; found only ${have.join(", ")}` : ""),
    );
  }
  const defaultClass = { bert: "BertTokenizer", roberta: "RobertaTokenizer", xlmr: "XLMRobertaTokenizer" }[kind];
  const json = kind === "bert" ? bertTokenizerJson(dir, cfg) : kind === "roberta" ? robertaTokenizerJson(dir, cfg) : xlmrTokenizerJson(dir, cfg);
  return build(json, cfg, named ?? defaultClass, dir);
}

function build(json: TokenizerJson, cfg: ResolvedConfig, cls: string, where: string): Tokenizer {
  try {
    return new Tokenizer(json, cfg, cls);
  } catch (e) {
    throw new WhetError(`Cannot load the tokenizer from "${where}": ${(e as Error).message}`);
  }
}

/**
 * What BertTokenizerFast / RobertaTokenizerFast do in __init__: tokenizer_config.json's
 * do_lower_case, strip_accents, tokenize_chinese_chars, add_prefix_space and trim_offsets win
 * over tokenizer.json. Only keys the config states are applied (Python would also apply its
 * defaults, e.g. lower-case a cased tokenizer.json whose config says nothing).
 */
function applyConfig(json: TokenizerJson, cfg: ResolvedConfig): void {
  const raw = cfg.raw;
  const norm = json.normalizer as Record<string, unknown> | null;
  if (norm?.type === "BertNormalizer") {
    if (typeof raw.do_lower_case === "boolean") norm.lowercase = raw.do_lower_case;
    if ("strip_accents" in raw && (typeof raw.strip_accents === "boolean" || raw.strip_accents === null)) norm.strip_accents = raw.strip_accents;
    if (typeof raw.tokenize_chinese_chars === "boolean") norm.handle_chinese_chars = raw.tokenize_chinese_chars;
  }
  const pre = json.pre_tokenizer as Record<string, unknown> | null;
  if (pre?.type === "ByteLevel" && typeof raw.add_prefix_space === "boolean") pre.add_prefix_space = raw.add_prefix_space;
  const post = json.post_processor as Record<string, unknown> | null;
  if (post?.type === "RobertaProcessing") {
    if (typeof raw.add_prefix_space === "boolean") post.add_prefix_space = raw.add_prefix_space;
    if (typeof raw.trim_offsets === "boolean") post.trim_offsets = raw.trim_offsets;
  }
}

type Piece = { SpecialToken?: { id: string }; Sequence?: unknown };

/**
 * A bare tokenizer.json (no tokenizer_config.json) still tells its unknown, [CLS]/[SEP] and pad
 * tokens: take them from the model, the post-processor and the padding settings, so padding and
 * special-token masks work. Keys the config names (even as null) are left alone.
 */
function inferSpecialTokens(json: TokenizerJson, cfg: ResolvedConfig): void {
  const set = (key: (typeof SPECIAL_TOKEN_KEYS)[number], content: unknown) => {
    if (typeof content !== "string" || cfg.special[key] || key in cfg.raw) return;
    cfg.special[key] = { content, singleWord: false, lstrip: false, rstrip: false, normalized: false, asDict: false };
  };
  const model = json.model;
  if (typeof model.unk_token === "string") set("unk_token", model.unk_token);
  if (model.type === "Unigram" && typeof model.unk_id === "number") set("unk_token", (model.vocab as [string, number][])[model.unk_id]?.[0]);
  const post = json.post_processor as Record<string, unknown> | null;
  if (post?.type === "TemplateProcessing") {
    const specials = ((post.single as Piece[]) ?? []).filter((p) => p.SpecialToken).map((p) => p.SpecialToken!.id);
    if (specials.length === 2) {
      set("cls_token", specials[0]);
      set("sep_token", specials[1]);
    }
  } else if (post?.type === "RobertaProcessing" || post?.type === "BertProcessing") {
    set("cls_token", (post.cls as [string, number])[0]);
    set("sep_token", (post.sep as [string, number])[0]);
  }
  const padding = json.padding as Record<string, unknown> | null;
  if (padding) set("pad_token", padding.pad_token);
  // Special added tokens spelled the BERT or RoBERTa way.
  for (const t of json.added_tokens) {
    if (t.special && (t.content === "[MASK]" || t.content === "<mask>")) set("mask_token", t.content);
    if (t.special && (t.content === "[PAD]" || t.content === "<pad>")) set("pad_token", t.content);
  }
}

/**
 * PreTrainedTokenizerFast registers every special token of the config with the Rust core as a
 * special added token (so "[CLS]" in a text stays whole and decode can skip it): same here, with
 * the vocabulary id when the token has one, else a new id after the last.
 */
function addSpecialTokens(json: TokenizerJson, cfg: ResolvedConfig): void {
  const model = json.model;
  const vocab = new Map<string, number>();
  if (Array.isArray(model.vocab)) (model.vocab as [string, number][]).forEach(([p], i) => vocab.has(p) || vocab.set(p, i));
  else if (model.vocab && typeof model.vocab === "object") for (const [t, id] of Object.entries(model.vocab as Record<string, number>)) vocab.set(t, id);
  let next = Math.max(maxOf(vocab.values(), -1), maxOf(json.added_tokens.map((t) => t.id), -1)) + 1;
  const specs = [...SPECIAL_TOKEN_KEYS.map((k) => cfg.special[k]), ...cfg.additionalSpecial];
  for (const t of specs) {
    if (!t || json.added_tokens.some((a) => a.content === t.content)) continue;
    const entry: AddedTokenJson = {
      id: vocab.get(t.content) ?? next++,
      content: t.content,
      single_word: t.singleWord,
      lstrip: t.lstrip,
      rstrip: t.rstrip,
      normalized: t.normalized,
      special: true,
    };
    json.added_tokens.push(entry);
  }
  json.added_tokens.sort((a, b) => a.id - b.id);
}

/** The class Python would name in tokenizer_config.json, from the pipeline's shape. */
function inferClass(json: TokenizerJson): string {
  const model = json.model.type;
  const norm = (json.normalizer as { type?: string } | null)?.type;
  const post = (json.post_processor as { type?: string } | null)?.type;
  if (model === "WordPiece" && norm === "BertNormalizer") return "BertTokenizer";
  if (model === "BPE" && post === "RobertaProcessing") return "RobertaTokenizer";
  if (model === "Unigram" && json.added_tokens.some((t) => t.content === "<s>")) return "XLMRobertaTokenizer";
  return "PreTrainedTokenizerFast";
}
