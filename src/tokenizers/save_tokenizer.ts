// Writes a tokenizer folder the way transformers' `save_pretrained` does for a fast tokenizer, so
// Python's `AutoTokenizer.from_pretrained(dir)` and transformers.js load it unchanged:
// tokenizer.json (the Rust core's own serialization), tokenizer_config.json (settings and
// tokenizer_class, sorted keys), special_tokens_map.json, plus the slow tokenizer's vocabulary
// files where the model type has them (vocab.txt; vocab.json + merges.txt) for older tools.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Tokenizer as NativeTokenizer } from "tokenizers";
import { WhetError } from "../core/errors.js";
import { SPECIAL_TOKEN_KEYS, tokenSpecToJson } from "./tokenizer_config.js";
import type { Tokenizer } from "./tokenizer.js";

/** Python's `json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"`. */
export function pythonJson(obj: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(sort(obj), null, 2) + "\n";
}

export function saveTokenizer(dir: string, tok: Tokenizer, native: NativeTokenizer): void {
  try {
    mkdirSync(dir, { recursive: true });
    native.save(join(dir, "tokenizer.json"), true);
    writeFileSync(join(dir, "tokenizer_config.json"), pythonJson(tokenizerConfigJson(tok)));
    writeFileSync(join(dir, "special_tokens_map.json"), pythonJson(specialTokensMapJson(tok, false)));
    writeSlowVocab(dir, tok);
  } catch (e) {
    if (e instanceof WhetError) throw e;
    throw new WhetError(`Cannot save the tokenizer to "${dir}": ${(e as Error).message}`);
  }
}

/** The special-token entries, as AddedToken dicts where they were loaded as dicts, else strings. */
function specialTokensMapJson(tok: Tokenizer, withType: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const t = tok.config.special[key];
    if (t) out[key] = tokenSpecToJson(t, withType);
  }
  if (tok.config.additionalSpecial.length > 0) {
    out.additional_special_tokens = tok.config.additionalSpecial.map((t) => tokenSpecToJson(t, withType));
  }
  return out;
}

export function tokenizerConfigJson(tok: Tokenizer): Record<string, unknown> {
  const cfg: Record<string, unknown> = { ...tok.config.raw };
  // Keys the special-token view owns are rewritten from it (a null stays out, as in Python).
  for (const key of [...SPECIAL_TOKEN_KEYS, "additional_special_tokens"]) delete cfg[key];
  Object.assign(cfg, specialTokensMapJson(tok, true));
  // Python writes the slow class's name; AutoTokenizer adds "Fast" back when tokenizer.json is there.
  cfg.tokenizer_class = tok.tokenizerClass.replace(/Fast$/, "");
  if (Number.isFinite(tok.modelMaxLength)) cfg.model_max_length = tok.modelMaxLength;
  if (!("clean_up_tokenization_spaces" in cfg)) cfg.clean_up_tokenization_spaces = true;
  return cfg;
}

function writeSlowVocab(dir: string, tok: Tokenizer): void {
  const model = tok.json.model;
  if (model.type === "WordPiece") {
    const vocab = model.vocab as Record<string, number>;
    const byId = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
    writeFileSync(join(dir, "vocab.txt"), byId.map(([t]) => t + "\n").join(""));
  } else if (model.type === "BPE") {
    const vocab = model.vocab as Record<string, number>;
    writeFileSync(join(dir, "vocab.json"), pythonJson(vocab));
    const merges = (model.merges as (string | [string, string])[]).map((m) => (typeof m === "string" ? m : m.join(" ")));
    writeFileSync(join(dir, "merges.txt"), "#version: 0.2\n" + merges.map((m) => m + "\n").join(""));
  }
}
