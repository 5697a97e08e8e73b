// A Hugging Face fast tokenizer: the `tokenizers` npm package (the Rust core behind Python's
// PreTrainedTokenizerFast) does the normalizing, pre-tokenizing, model and post-processing;
// truncation and padding are done here, with transformers' rules, on the pieces it returns.
import { Encoding as NativeEncoding, Tokenizer as NativeTokenizer } from "tokenizers";
import { WhetError } from "../core/errors.js";
import { SPECIAL_TOKEN_KEYS, type ResolvedConfig, type SpecialTokenKey } from "./tokenizer_config.js";
import type { TokenizerJson } from "./convert.js";
import { codePointToUtf16, makeBatch, padEncoding, type BatchEncoding, type Encoding } from "./encoding.js";
import { saveTokenizer } from "./save_tokenizer.js";
import { planTruncation, type TruncationStrategy } from "./truncation.js";
import { maxOf } from "../core/iter.js";
import { checkTokenizerJson } from "./tokenizer_json_check.js";

export interface EncodeOptions {
  /** Add [CLS]/[SEP] (or <s>/</s>); default true. */
  addSpecialTokens?: boolean;
  /** true means "longest_first"; default: "longest_first" when maxLength is given, otherwise none. */
  truncation?: TruncationStrategy | boolean;
  /** Length limit counting the special tokens; default tokenizer_config.json's model_max_length. */
  maxLength?: number;
}

export interface BatchOptions extends EncodeOptions {
  /** "longest" (default): pad to the batch's longest row; "max_length": to maxLength; false: no padding. */
  padding?: "longest" | "max_length" | false;
  /** Round the padded length up to a multiple of this (8 helps tensor cores). */
  padToMultipleOf?: number;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** Join " ." -> "." and the like, as transformers does; default tokenizer_config.json's clean_up_tokenization_spaces (true when absent). */
  cleanUpTokenizationSpaces?: boolean;
}

/** Classes whose model takes no token_type_ids (their `model_input_names` in transformers). */
const NO_TYPE_IDS = /^(DistilBert|Roberta|XLMRoberta|Camembert|GPT2|Bart|Longformer|MPNet|Bloom|Llama|T5|Deberta)Tokenizer/;

/**
 * A tokenizer loaded from a Hugging Face folder (see `loadTokenizer`).
 *
 * ```ts
 * const tok = await loadTokenizer("models/bert-mini");
 * const batch = await tok.encodeBatch(["hello world", "hi"], undefined, { maxLength: 128 });
 * batch.inputIds; // [[101, 7592, 2088, 102], [101, 7632, 102, 0]]
 * const feeds = batch.tensors(); // { input_ids, token_type_ids, attention_mask }: int64 [2, 4]
 * ```
 */
export class Tokenizer {
  /** The full pipeline, post-processor included: used for post-processing, decoding and saving. */
  private readonly full: NativeTokenizer;
  /** The same without post-processor: encodes the raw pieces that we truncate before adding specials. */
  private readonly raw: NativeTokenizer;
  private readonly numSpecial = new Map<boolean, Promise<number>>();

  /** `json` is tokenizer.json (as loaded or converted); `config` the resolved tokenizer_config. */
  constructor(
    readonly json: TokenizerJson,
    readonly config: ResolvedConfig,
    readonly tokenizerClass: string,
  ) {
    // Padding and truncation stored in tokenizer.json are ignored, as Python's
    // `set_truncation_and_padding` resets them per call: both are this class's job.
    json.truncation = null;
    json.padding = null;
    // Also for converted files: the Rust core panics (aborting the process) on some malformed ones.
    checkTokenizerJson(json, "tokenizer.json");
    try {
      this.full = NativeTokenizer.fromString(JSON.stringify(json));
      this.raw = NativeTokenizer.fromString(JSON.stringify({ ...json, post_processor: null }));
    } catch (e) {
      throw new WhetError(`The tokenizers library rejected this tokenizer.json: ${(e as Error).message}`);
    }
  }

  /** Size of the base vocabulary, without added tokens (Python's `tokenizer.vocab_size`). */
  get vocabSize(): number {
    return this.full.getVocabSize(false);
  }

  /** Vocabulary plus added tokens (Python's `len(tokenizer)`): the embedding needs at least this many rows. */
  get totalVocabSize(): number {
    return this.full.getVocabSize(true);
  }

  /** tokenizer_config.json's model_max_length; Infinity when it names none (Python: 1e30). */
  get modelMaxLength(): number {
    const v = this.config.raw.model_max_length;
    return typeof v === "number" && v < 1e29 ? v : Infinity;
  }

  get paddingSide(): "right" | "left" {
    return this.config.raw.padding_side === "left" ? "left" : "right";
  }

  get modelInputNames(): readonly string[] {
    const names = this.config.raw.model_input_names;
    if (Array.isArray(names) && names.every((n) => typeof n === "string")) return names as string[];
    return NO_TYPE_IDS.test(this.tokenizerClass) ? ["input_ids", "attention_mask"] : ["input_ids", "token_type_ids", "attention_mask"];
  }

  /** The text of a special token ("[PAD]"), or undefined when the tokenizer has none. */
  specialToken(key: SpecialTokenKey): string | undefined {
    return this.config.special[key]?.content;
  }

  /** The id of a special token, or undefined when the tokenizer has none. */
  specialTokenId(key: SpecialTokenKey): number | undefined {
    const t = this.specialToken(key);
    return t === undefined ? undefined : this.tokenToId(t);
  }

  get padTokenId(): number | undefined { return this.specialTokenId("pad_token"); }
  get clsTokenId(): number | undefined { return this.specialTokenId("cls_token"); }
  get sepTokenId(): number | undefined { return this.specialTokenId("sep_token"); }
  get unkTokenId(): number | undefined { return this.specialTokenId("unk_token"); }
  get maskTokenId(): number | undefined { return this.specialTokenId("mask_token"); }
  get bosTokenId(): number | undefined { return this.specialTokenId("bos_token"); }
  get eosTokenId(): number | undefined { return this.specialTokenId("eos_token"); }

  /** Ids of every special token, Python's `all_special_ids` (the unknown token included). */
  get allSpecialIds(): number[] {
    const tokens = [...SPECIAL_TOKEN_KEYS.map((k) => this.specialToken(k)), ...this.config.additionalSpecial.map((t) => t.content)];
    const ids = tokens.filter((t): t is string => t !== undefined).map((t) => this.tokenToId(t));
    return [...new Set(ids.filter((i): i is number => i !== undefined))];
  }

  tokenToId(token: string): number | undefined {
    return this.full.tokenToId(token) ?? undefined;
  }

  idToToken(id: number): string | undefined {
    return this.full.idToToken(id) ?? undefined;
  }

  /**
   * 1 where an id is a special token, 0 elsewhere, as Python's
   * `get_special_tokens_mask(ids, already_has_special_tokens=True)`: what
   * DataCollatorForLanguageModeling uses to keep [CLS], [SEP], [PAD] (and [UNK]) from being masked.
   */
  getSpecialTokensMask(ids: readonly number[]): number[] {
    const special = new Set(this.allSpecialIds);
    return ids.map((id) => (special.has(id) ? 1 : 0));
  }

  /** How many tokens the post-processor adds to a single sequence or a pair (2 and 3 for BERT). */
  numSpecialTokensToAdd(pair: boolean): Promise<number> {
    let n = this.numSpecial.get(pair);
    if (!n) {
      n = this.raw.encode("", null).then((e) => this.full.postProcess(e, pair ? e : null, true).getLength());
      this.numSpecial.set(pair, n);
    }
    return n;
  }

  /** The tokens of a text without special tokens (Python's `tokenizer.tokenize`). */
  async tokenize(text: string, pair?: string): Promise<string[]> {
    return (await this.encode(text, pair, { addSpecialTokens: false })).tokens;
  }

  /** Encode one text, or one pair of texts (question and context, premise and hypothesis). */
  async encode(text: string, pair?: string | null, opts: EncodeOptions = {}): Promise<Encoding> {
    checkText(text, "text");
    if (pair !== undefined && pair !== null) checkText(pair, "pair");
    const [a, b] = await native("encoding a text", () => Promise.all([this.raw.encode(text, null), pair == null ? null : this.raw.encode(pair, null)]));
    return this.finish(a, b, text, pair ?? null, opts, await this.truncationFor(opts, b !== null));
  }

  /**
   * Encode a batch (with `pairs[i]` the second text of row i) into rectangular rows ready for
   * the model: see `BatchEncoding.tensors()`.
   */
  async encodeBatch(texts: readonly string[], pairs?: readonly string[] | null, opts: BatchOptions = {}): Promise<BatchEncoding> {
    texts.forEach((t, i) => checkText(t, `texts[${i}]`));
    if (pairs) {
      if (pairs.length !== texts.length) throw new WhetError(`encodeBatch: ${texts.length} texts but ${pairs.length} pairs`);
      pairs.forEach((t, i) => checkText(t, `pairs[${i}]`));
    }
    // The Rust core encodes a whole batch on its own thread pool.
    const [as, bs] = await native("encoding a batch", () => Promise.all([
      this.raw.encodeBatch([...texts]),
      pairs ? this.raw.encodeBatch([...pairs]) : Promise.resolve(null),
    ]));
    const trunc = await this.truncationFor(opts, pairs != null);
    const rows = as.map((a, i) => this.finish(a, bs ? bs[i] : null, texts[i], pairs ? pairs[i] : null, opts, trunc));
    const padding = opts.padding ?? "longest";
    if (padding !== false && rows.length > 0) {
      let length = padding === "max_length" ? (opts.maxLength ?? this.modelMaxLength) : maxOf(rows.map((r) => r.inputIds.length), 0);
      if (!Number.isFinite(length)) throw new WhetError(`padding "max_length" needs maxLength: this tokenizer has no model_max_length`);
      const m = opts.padToMultipleOf;
      if (m !== undefined && m > 0) length = Math.ceil(length / m) * m;
      const padId = this.padTokenId;
      const padToken = this.specialToken("pad_token");
      if (padId === undefined || padToken === undefined) {
        throw new WhetError(`Cannot pad: this tokenizer has no pad token (set "pad_token" in tokenizer_config.json, or pass padding: false)`);
      }
      for (const r of rows) padEncoding(r, { length, padId, padToken, padTypeId: 0, side: this.paddingSide });
    }
    return makeBatch(rows, this.modelInputNames);
  }

  /** Ids back to text. */
  async decode(ids: readonly number[], opts: DecodeOptions = {}): Promise<string> {
    const bad = ids.find((id) => !Number.isInteger(id) || id < 0);
    if (bad !== undefined) throw new WhetError(`decode: ids must be non-negative integers, got ${bad}`);
    const text = await this.full.decode([...ids], opts.skipSpecialTokens ?? false);
    const cleanup = opts.cleanUpTokenizationSpaces ?? this.config.raw.clean_up_tokenization_spaces !== false;
    return cleanup ? cleanUpTokenization(text) : text;
  }

  async decodeBatch(rows: readonly (readonly number[])[], opts: DecodeOptions = {}): Promise<string[]> {
    return Promise.all(rows.map((r) => this.decode(r, opts)));
  }

  /**
   * Token strings back to text through the tokenizer's decoder, as transformers'
   * `convert_tokens_to_string` does for fast tokenizers: `["hu", "##gging"]` → `"hugging"`.
   * Unlike `decode`, tokens outside the vocabulary (a text span standing in for [UNK]) pass through.
   */
  convertTokensToString(tokens: readonly string[]): string {
    const decoder = this.full.getDecoder();
    return decoder ? decoder.decode([...tokens]) : tokens.join(" ");
  }

  /** The model's continuing-subword prefix ("##" for WordPiece), or null when tokens do not mark it. */
  get continuingSubwordPrefix(): string | null {
    const p = this.json.model.continuing_subword_prefix;
    return typeof p === "string" && p !== "" ? p : null;
  }

  /**
   * Write tokenizer.json, tokenizer_config.json and special_tokens_map.json (and the slow
   * tokenizer's vocabulary files) as transformers' `save_pretrained` does.
   */
  async save(dir: string): Promise<void> {
    saveTokenizer(dir, this, this.full);
  }

  /** Resolve the options to (strategy, maxLength), or null for "no truncation". */
  private async truncationFor(opts: EncodeOptions, pair: boolean): Promise<{ strategy: TruncationStrategy; maxLength: number; numSpecial: number } | null> {
    const t = opts.truncation ?? opts.maxLength !== undefined;
    if (t === false) return null;
    const strategy: TruncationStrategy = t === true ? "longest_first" : t;
    if (!["longest_first", "only_first", "only_second"].includes(strategy)) {
      throw new WhetError(`Unknown truncation "${strategy}": use "longest_first", "only_first", "only_second", true or false`);
    }
    const maxLength = opts.maxLength ?? this.modelMaxLength;
    if (!Number.isFinite(maxLength)) return null;
    const numSpecial = opts.addSpecialTokens === false ? 0 : await this.numSpecialTokensToAdd(pair);
    return { strategy, maxLength, numSpecial };
  }

  /** Truncate the raw pieces, add the special tokens, convert to plain arrays. */
  private finish(
    a: NativeEncoding,
    b: NativeEncoding | null,
    textA: string,
    textB: string | null,
    opts: EncodeOptions,
    trunc: { strategy: TruncationStrategy; maxLength: number; numSpecial: number } | null,
  ): Encoding {
    if (trunc) {
      const [keepA, keepB] = planTruncation(a.getLength(), b ? b.getLength() : null, trunc.numSpecial, trunc.maxLength, trunc.strategy);
      if (keepA < a.getLength()) a.truncate(keepA, 0, "right");
      if (b && keepB !== null && keepB < b.getLength()) b.truncate(keepB, 0, "right");
    }
    const e = this.full.postProcess(a, b, opts.addSpecialTokens ?? true);
    const sequenceIds = e.getSequenceIds().map((s) => s ?? null);
    const maps = [codePointToUtf16(textA), textB === null ? null : codePointToUtf16(textB)];
    const offsets = e.getOffsets().map(([s, t], i): [number, number] => {
      const m = sequenceIds[i] === null ? null : maps[sequenceIds[i]!];
      return m ? [m(s), m(t)] : [s, t];
    });
    const inputIds = e.getIds(), tokenTypeIds = e.getTypeIds();
    return {
      inputIds,
      tokens: e.getTokens(),
      tokenTypeIds,
      ids: inputIds,
      typeIds: tokenTypeIds,
      attentionMask: e.getAttentionMask(),
      specialTokensMask: e.getSpecialTokensMask(),
      offsets,
      wordIds: e.getWordIds().map((w) => w ?? null),
      sequenceIds,
    };
  }
}

function checkText(t: unknown, what: string): void {
  if (typeof t !== "string") throw new WhetError(`Tokenizer: ${what} must be a string, got ${t === null ? "null" : typeof t}`);
}

/** transformers' `clean_up_tokenization`: drop the space the decoder leaves before punctuation and contractions. */
export function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Errors of the Rust core ("WordPiece error: Missing [UNK] token…") as WhetErrors saying what was done. */
async function native<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof WhetError) throw e;
    throw new WhetError(`The tokenizers library failed while ${doing}: ${(e as Error).message} (check the tokenizer files)`);
  }
}
