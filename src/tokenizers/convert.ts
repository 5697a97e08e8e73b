// Builds the tokenizer.json that transformers' convert_slow_tokenizer.py would build from a
// "slow" tokenizer folder, so one fast (Rust) code path serves every folder. Follows
// transformers 4.30: BertConverter and RobertaConverter
// (https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/convert_slow_tokenizer.py),
// plus the special tokens that PreTrainedTokenizerFast adds on construction.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { MAX_TOKEN_ID } from "./tokenizer_config_schema.js";
import { flag, readJson, SPECIAL_TOKEN_KEYS, withDefaults, type AddedTokenSpec, type ResolvedConfig } from "./tokenizer_config.js";
import { assertRegularFile } from "../core/regular_file.js";
import { maxOf } from "../core/iter.js";

/** tokenizer.json as a plain object (the `tokenizers` library's serialization format). */
export type TokenizerJson = Record<string, unknown> & { model: Record<string, unknown>; added_tokens: AddedTokenJson[] };

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

function readText(path: string): string {
  try {
    assertRegularFile(path);
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new WhetError(`Cannot read tokenizer file "${path}": ${(e as Error).message}`);
  }
}

/**
 * vocab.txt -> token -> id, as BERT's `load_vocab` reads it: Python's text mode turns \r\n into
 * \n, only the line break is stripped (other whitespace is part of the token), and a repeated
 * token keeps its LAST line number.
 */
export function readVocabTxt(path: string): Map<string, number> {
  const lines = readText(path).split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0) throw new WhetError(`Tokenizer file "${path}" is empty: a WordPiece vocabulary needs one token per line`);
  const vocab = new Map<string, number>();
  lines.forEach((tok, i) => vocab.set(tok, i));
  return vocab;
}

/** The added_tokens entries: every special token (vocab id when it has one, else a new id after the vocab), sorted by id. */
export function specialAddedTokens(cfg: ResolvedConfig, vocab: Map<string, number>): AddedTokenJson[] {
  const out = new Map<string, AddedTokenJson>();
  let next = maxOf(vocab.values(), -1) + 1;
  const add = (t: AddedTokenSpec, special: boolean, id?: number) => {
    if (out.has(t.content)) return;
    const known = id ?? vocab.get(t.content) ?? next++;
    out.set(t.content, { id: known, content: t.content, single_word: t.singleWord, lstrip: t.lstrip, rstrip: t.rstrip, normalized: t.normalized, special });
  };
  for (const key of SPECIAL_TOKEN_KEYS) {
    const t = cfg.special[key];
    if (t) add(t, true);
  }
  for (const t of cfg.additionalSpecial) add(t, true);
  // added_tokens.json: extra tokens a slow tokenizer appended after its vocabulary, ids as given.
  const extra = Object.entries(cfg.addedTokens).sort((a, b) => a[1] - b[1]);
  for (const [content, id] of extra) {
    if (id < next && !out.has(content) && vocab.get(content) !== id) {
      throw new WhetError(`added_tokens.json gives "${content}" id ${id}, which the vocabulary (${next} ids) already uses`);
    }
    add({ content, singleWord: false, lstrip: false, rstrip: false, normalized: true, asDict: false }, false, id);
    next = Math.max(next, id + 1);
  }
  return [...out.values()].sort((a, b) => a.id - b.id);
}

function idOf(cfg: ResolvedConfig, added: AddedTokenJson[], key: "cls_token" | "sep_token", dir: string): [string, number] {
  const t = cfg.special[key];
  if (!t) throw new WhetError(`Cannot build a tokenizer from "${dir}": no ${key} in tokenizer_config.json or special_tokens_map.json`);
  return [t.content, added.find((a) => a.content === t.content)!.id];
}

/** BertConverter: vocab.txt + tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars). */
export function bertTokenizerJson(dir: string, cfg: ResolvedConfig): TokenizerJson {
  const vocab = readVocabTxt(join(dir, "vocab.txt"));
  withDefaults(cfg, { unk_token: "[UNK]", sep_token: "[SEP]", pad_token: "[PAD]", cls_token: "[CLS]", mask_token: "[MASK]" });
  const added = specialAddedTokens(cfg, vocab);
  const [cls, clsId] = idOf(cfg, added, "cls_token", dir);
  const [sep, sepId] = idOf(cfg, added, "sep_token", dir);
  const unk = cfg.special.unk_token?.content ?? "[UNK]";
  const lowercase = flag(cfg.raw, "do_lower_case", true);
  // strip_accents null means "follow lowercase", in the slow BasicTokenizer and in BertNormalizer alike.
  const stripAccents = typeof cfg.raw.strip_accents === "boolean" ? cfg.raw.strip_accents : null;
  const spec = (id: string, type_id: number) => ({ SpecialToken: { id, type_id } });
  const seq = (id: string, type_id: number) => ({ Sequence: { id, type_id } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: flag(cfg.raw, "tokenize_chinese_chars", true),
      strip_accents: stripAccents,
      lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [spec(cls, 0), seq("A", 0), spec(sep, 0)],
      pair: [spec(cls, 0), seq("A", 0), spec(sep, 0), seq("B", 1), spec(sep, 1)],
      special_tokens: {
        [cls]: { id: cls, ids: [clsId], tokens: [cls] },
        [sep]: { id: sep, ids: [sepId], tokens: [sep] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

/**
 * merges.txt as the slow GPT-2/RoBERTa tokenizer reads it: `split("\n")[1:-1]`, i.e. the first
 * line (the "#version" header) and the last piece (empty after the final newline) are dropped.
 */
export function readMerges(path: string): [string, string][] {
  const lines = readText(path).split("\n").slice(1, -1);
  return lines.map((line, i) => {
    const parts = line.split(/\s+/).filter((p) => p !== "");
    if (parts.length !== 2) {
      // The column where the line goes wrong: its end (a token missing), or the third token.
      const column = parts.length < 2 ? line.length + 1 : /^\s*\S+\s+\S+\s+/.exec(line)![0].length + 1;
      throw new WhetError(`Tokenizer file "${path}", line ${i + 2} column ${column}: expected two tokens "a b", ` +
        `got ${JSON.stringify(line.slice(0, 80))}`);
    }
    return [parts[0], parts[1]];
  });
}

/**
 * vocab.json as token -> id: whole ids from 0 to MAX_TOKEN_ID, each used once (two tokens with one
 * id cannot both be decoded), and at least one entry.
 */
export function readVocabJson(path: string): Map<string, number> {
  const vocabObj = readJson(path);
  if (vocabObj === null || typeof vocabObj !== "object" || Array.isArray(vocabObj)) {
    throw new WhetError(`Tokenizer file "${path}" must map tokens to ids`);
  }
  const vocab = new Map<string, number>();
  const byId = new Map<number, string>();
  for (const [tok, id] of Object.entries(vocabObj)) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > MAX_TOKEN_ID) {
      throw new WhetError(`Tokenizer file "${path}": id of ${JSON.stringify(tok.slice(0, 40))} must be a whole number ` +
        `from 0 to ${MAX_TOKEN_ID}, got ${JSON.stringify(id)?.slice(0, 40)}`);
    }
    const other = byId.get(id);
    if (other !== undefined) {
      throw new WhetError(`Tokenizer file "${path}": ${JSON.stringify(other.slice(0, 40))} and ${JSON.stringify(tok.slice(0, 40))} ` +
        `both have id ${id}`);
    }
    byId.set(id, tok);
    vocab.set(tok, id);
  }
  if (vocab.size === 0) throw new WhetError(`Tokenizer file "${path}" is empty: a BPE vocabulary needs its tokens`);
  return vocab;
}

/** RobertaConverter: vocab.json + merges.txt, byte-level BPE, <s> $A </s> </s> $B </s>. */
export function robertaTokenizerJson(dir: string, cfg: ResolvedConfig): TokenizerJson {
  const vocab = readVocabJson(join(dir, "vocab.json"));
  const merges = readMerges(join(dir, "merges.txt"));
  withDefaults(cfg, { bos_token: "<s>", eos_token: "</s>", sep_token: "</s>", cls_token: "<s>", unk_token: "<unk>", pad_token: "<pad>", mask_token: "<mask>" });
  // RobertaTokenizer.__init__ wraps plain strings in AddedToken(normalized=True), the mask with lstrip=True.
  for (const key of SPECIAL_TOKEN_KEYS) {
    const t = cfg.special[key];
    if (t && !t.asDict) cfg.special[key] = { ...t, normalized: true, lstrip: key === "mask_token", asDict: true };
  }
  const added = specialAddedTokens(cfg, vocab);
  const addPrefixSpace = flag(cfg.raw, "add_prefix_space", false);
  const trimOffsets = flag(cfg.raw, "trim_offsets", true);
  const byteLevel = (aps: boolean) => ({ type: "ByteLevel", add_prefix_space: aps, trim_offsets: true, use_regex: true });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel(addPrefixSpace),
    post_processor: {
      type: "RobertaProcessing",
      sep: idOf(cfg, added, "sep_token", dir),
      cls: idOf(cfg, added, "cls_token", dir),
      trim_offsets: trimOffsets,
      add_prefix_space: addPrefixSpace,
    },
    decoder: byteLevel(true),
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** Which slow-tokenizer files a folder holds, for the error that says none was found. */
export function slowFilesPresent(dir: string): { vocabTxt: boolean; vocabJson: boolean; merges: boolean; spm: boolean } {
  return {
    vocabTxt: existsSync(join(dir, "vocab.txt")),
    vocabJson: existsSync(join(dir, "vocab.json")),
    merges: existsSync(join(dir, "merges.txt")),
    spm: existsSync(join(dir, "sentencepiece.bpe.model")),
  };
}
