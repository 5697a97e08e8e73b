// The JSON side files of a tokenizer folder checked before they are used: a setting of the wrong
// type is otherwise ignored without a word (`"do_lower_case": "false"` would lower-case, a string
// `model_max_length` would mean "no limit"), and a special token that is neither a string nor an
// AddedToken object used to surface as a JavaScript error. Messages name the file, the key, the
// expected type and the value found. Unknown keys are allowed: transformers keeps them too.
import { z } from "zod";
import { WhetError } from "../core/errors.js";
import { checkSchema } from "./tokenizer_json_check.js";

/** The special-token keys of tokenizer_config.json and special_tokens_map.json. */
const SPECIAL_KEYS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];
/** Token ids beyond this are not a real vocabulary (the same bound as tokenizer.json's). */
export const MAX_TOKEN_ID = 2 ** 31 - 1;

const flag = z.boolean().nullable().optional();
const side = z.enum(["left", "right"]).optional();
/** Python writes 1e30 (VERY_LARGE_INTEGER) for "no limit": any positive whole number. */
const maxLength = z.number().positive().refine(Number.isInteger, "expected a whole number").optional();

const settings = z.looseObject({
  model_max_length: maxLength,
  do_lower_case: flag,
  strip_accents: flag,
  tokenize_chinese_chars: flag,
  do_basic_tokenize: flag,
  add_prefix_space: flag,
  trim_offsets: flag,
  clean_up_tokenization_spaces: flag,
  split_special_tokens: flag,
  padding_side: side,
  truncation_side: side,
  tokenizer_class: z.string().nullable().optional(),
  model_input_names: z.array(z.string()).optional(),
  additional_special_tokens: z.array(z.unknown()).nullable().optional(),
  added_tokens_decoder: z.record(z.string(), z.unknown()).optional(),
});

/** An AddedToken as save_pretrained writes it (`__type` in older files; `special` in added_tokens_decoder). */
const addedToken = z.looseObject({
  __type: z.literal("AddedToken").optional(),
  content: z.string().min(1),
  single_word: z.boolean().optional(),
  lstrip: z.boolean().optional(),
  rstrip: z.boolean().optional(),
  normalized: z.boolean().optional(),
  special: z.boolean().optional(),
});

/**
 * Checks tokenizer_config.json (`file` names it in messages): typed settings, special tokens as
 * strings or AddedToken objects, added_tokens_decoder keyed by token ids.
 *
 * @example
 * checkTokenizerConfig({ do_lower_case: "false" }, "m/tokenizer_config.json");
 * // WhetError: Tokenizer file "m/tokenizer_config.json": "do_lower_case": expected boolean, got "false"
 */
export function checkTokenizerConfig(raw: Record<string, unknown>, file: string): void {
  const where = `Tokenizer file "${file}"`;
  checkSchema(settings, raw, where, "");
  checkSpecialTokens(raw, where);
  const decoder = (raw.added_tokens_decoder ?? {}) as Record<string, unknown>;
  for (const [id, token] of Object.entries(decoder)) {
    if (!/^\d+$/.test(id) || Number(id) > MAX_TOKEN_ID) {
      throw new WhetError(`${where}: "added_tokens_decoder.${id.slice(0, 40)}": expected a token id ` +
        `(a whole number from 0 to ${MAX_TOKEN_ID}) as the key`);
    }
    checkSchema(addedToken, token, where, `added_tokens_decoder.${id}.`);
  }
}

/** Checks special_tokens_map.json: only special tokens (strings or AddedToken objects) and their list. */
export function checkSpecialTokensMap(map: Record<string, unknown>, file: string): void {
  checkSpecialTokens(map, `Tokenizer file "${file}"`);
}

function checkSpecialTokens(o: Record<string, unknown>, where: string): void {
  for (const key of SPECIAL_KEYS) checkToken(o[key], where, key);
  const extra = o.additional_special_tokens;
  if (extra === undefined || extra === null) return;
  if (!Array.isArray(extra)) {
    throw new WhetError(`${where}: "additional_special_tokens": expected a list of tokens, got ${JSON.stringify(extra).slice(0, 80)}`);
  }
  extra.forEach((t, i) => checkToken(t, where, `additional_special_tokens.${i}`));
}

function checkToken(v: unknown, where: string, key: string): void {
  if (v === undefined || v === null) return;
  if (typeof v === "string") {
    if (v === "") throw new WhetError(`${where}: "${key}": expected a token, got an empty string (use null for none)`);
    return;
  }
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new WhetError(`${where}: "${key}": expected a token string or an AddedToken object {"content": ...}, ` +
      `got ${JSON.stringify(v).slice(0, 80)}`);
  }
  checkSchema(addedToken, v, where, `${key}.`);
}
