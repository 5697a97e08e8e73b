// Reading the JSON side files of a Hugging Face tokenizer folder (tokenizer_config.json,
// special_tokens_map.json, added_tokens.json) into one resolved view, the way transformers'
// `PreTrainedTokenizerBase.from_pretrained` merges them: special_tokens_map.json wins over
// tokenizer_config.json, and caller overrides (Python's kwargs) win over both.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { findDuplicateKey } from "../core/json_keys.js";
import { assertRegularFile } from "../core/regular_file.js";
import { checkSpecialTokensMap, checkTokenizerConfig, MAX_TOKEN_ID } from "./tokenizer_config_schema.js";

/** The special-token attributes transformers knows, in its own order (SPECIAL_TOKENS_ATTRIBUTES). */
export const SPECIAL_TOKEN_KEYS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] as const;
export type SpecialTokenKey = (typeof SPECIAL_TOKEN_KEYS)[number];

/** An added token with its matching flags, as tokenizer.json's `added_tokens` entries spell them. */
export interface AddedTokenSpec {
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  /** true when the file gave the full dict form; saved back the same way (transformers does too). */
  asDict: boolean;
}

/** A tokenizer folder's configuration after merging its files and the caller's overrides. */
export interface ResolvedConfig {
  /** tokenizer_config.json with overrides applied (keys as in the file: snake_case). */
  raw: Record<string, unknown>;
  special: Partial<Record<SpecialTokenKey, AddedTokenSpec>>;
  additionalSpecial: AddedTokenSpec[];
  /** added_tokens.json (slow tokenizers' extra tokens): content -> id. */
  addedTokens: Record<string, number>;
}

/** Parse a JSON file, naming the file in any error: a bad file must say which file is bad. */
export function readJson(path: string): unknown {
  let text: string;
  try {
    assertRegularFile(path);
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new WhetError(`Cannot read tokenizer file "${path}": ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new WhetError(`Malformed JSON in tokenizer file "${path}"${lineColumn(text, (e as Error).message)}: ${(e as Error).message}`);
  }
  const dup = findDuplicateKey(text);
  if (dup) throw new WhetError(`Tokenizer file "${path}", line ${dup.line}: the key "${dup.key}" appears twice${dup.path ? ` in "${dup.path}"` : ""}`);
  return value;
}

/** ", line L column C" for the "at position N" of a JSON.parse message, or "" without one. */
function lineColumn(text: string, message: string): string {
  const m = / at position (\d+)/.exec(message);
  if (!m) return "";
  const before = text.slice(0, Number(m[1])).split("\n");
  return `, line ${before.length} column ${before.at(-1)!.length + 1}`;
}

function readObject(path: string): Record<string, unknown> {
  const v = readJson(path);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new WhetError(`Tokenizer file "${path}" must hold a JSON object, got ${Array.isArray(v) ? "an array" : typeof v}`);
  }
  return v as Record<string, unknown>;
}

/**
 * A special token value as the files write it: a plain string, or an AddedToken dict
 * (`{"__type": "AddedToken", "content": "<mask>", "lstrip": true, ...}`). `null` means "none".
 */
export function parseTokenSpec(v: unknown, where: string): AddedTokenSpec | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "string") return { content: v, singleWord: false, lstrip: false, rstrip: false, normalized: false, asDict: false };
  if (typeof v === "object" && typeof (v as { content?: unknown }).content === "string") {
    const o = v as Record<string, unknown>;
    return {
      content: o.content as string,
      singleWord: o.single_word === true,
      lstrip: o.lstrip === true,
      rstrip: o.rstrip === true,
      // transformers' AddedToken defaults to normalized=True when the dict leaves it out.
      normalized: o.normalized !== false,
      asDict: true,
    };
  }
  throw new WhetError(`${where}: expected a token string or {"content": ...}, got ${JSON.stringify(v)}`);
}

/** The dict form save_pretrained writes for an AddedToken value. */
export function tokenSpecToJson(t: AddedTokenSpec, withType = false): unknown {
  if (!t.asDict) return t.content;
  const o: Record<string, unknown> = withType ? { __type: "AddedToken" } : {};
  Object.assign(o, { content: t.content, lstrip: t.lstrip, normalized: t.normalized, rstrip: t.rstrip, single_word: t.singleWord });
  return o;
}

/**
 * Read tokenizer_config.json, special_tokens_map.json and added_tokens.json from `dir` (each
 * optional) and merge them with `overrides` (tokenizer_config keys, like Python's kwargs).
 */
export function readTokenizerConfig(dir: string, overrides: Record<string, unknown> = {}): ResolvedConfig {
  const cfgPath = join(dir, "tokenizer_config.json");
  const raw: Record<string, unknown> = existsSync(cfgPath) ? readObject(cfgPath) : {};
  checkTokenizerConfig(raw, cfgPath);
  // Python's `init_kwargs` keeps only the tokenizer's own settings; these are loader bookkeeping.
  for (const k of ["name_or_path", "special_tokens_map_file", "tokenizer_file"]) delete raw[k];
  Object.assign(raw, overrides);

  const mapPath = join(dir, "special_tokens_map.json");
  const map = existsSync(mapPath) ? readObject(mapPath) : {};
  checkSpecialTokensMap(map, mapPath);
  const special: ResolvedConfig["special"] = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    // An explicit override beats the map; otherwise the map beats tokenizer_config.json.
    const source = key in overrides ? overrides : key in map ? map : raw;
    const spec = parseTokenSpec(source[key], `"${key}" in ${source === map ? mapPath : cfgPath}`);
    if (spec) special[key] = spec;
  }
  const addSource = "additional_special_tokens" in overrides ? overrides : "additional_special_tokens" in map ? map : raw;
  const addList = addSource.additional_special_tokens ?? [];
  if (!Array.isArray(addList)) throw new WhetError(`"additional_special_tokens" must be a list, got ${JSON.stringify(addList)}`);
  const additionalSpecial = addList.map((v, i) => parseTokenSpec(v, `additional_special_tokens[${i}]`)!);

  const addedPath = join(dir, "added_tokens.json");
  const addedTokens: Record<string, number> = {};
  if (existsSync(addedPath)) {
    for (const [tok, id] of Object.entries(readObject(addedPath))) {
      if (!Number.isInteger(id) || (id as number) < 0 || (id as number) > MAX_TOKEN_ID) {
        throw new WhetError(`Tokenizer file "${addedPath}": id of "${tok}" must be a whole number from 0 to ${MAX_TOKEN_ID}, ` +
          `got ${JSON.stringify(id)}`);
      }
      addedTokens[tok] = id as number;
    }
  }
  return { raw, special, additionalSpecial, addedTokens };
}

/** A boolean setting from the config, or `dflt` when absent or null. */
export function flag(raw: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = raw[key];
  return typeof v === "boolean" ? v : dflt;
}

/** Fill in special tokens a tokenizer class has by default (BertTokenizer's "[CLS]"…) when the files name none. */
export function withDefaults(cfg: ResolvedConfig, defaults: Partial<Record<SpecialTokenKey, string>>): void {
  for (const [key, content] of Object.entries(defaults) as [SpecialTokenKey, string][]) {
    if (!cfg.special[key] && !(key in cfg.raw && cfg.raw[key] === null)) {
      cfg.special[key] = { content, singleWord: false, lstrip: false, rstrip: false, normalized: false, asDict: false };
    }
  }
}
