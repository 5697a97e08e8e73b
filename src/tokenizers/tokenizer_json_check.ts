// tokenizer.json checked before the Rust core sees it. The core trusts a deserialized file: a
// TemplateProcessing that names a special token missing from its `special_tokens` map panics on
// the first encode (an abort with exit 134 that no try/catch can stop), and JavaScript code
// reading `added_tokens` or the vocabulary must not meet a number where it expects an array.
import { z } from "zod";
import { WhetError } from "../core/errors.js";

const tokenId = z.number().int().min(0).max(2 ** 31 - 1);
const addedToken = z.looseObject({ id: tokenId, content: z.string(), special: z.boolean().optional() });
// Checked by a loop (checkVocab): zod takes seconds over a 250k-entry vocabulary.
const vocabMap = z.custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), { message: "expected object" });

const MODELS: Record<string, z.ZodType> = {
  WordPiece: z.looseObject({ vocab: vocabMap, unk_token: z.string() }),
  WordLevel: z.looseObject({ vocab: vocabMap, unk_token: z.string().optional() }),
  BPE: z.looseObject({ vocab: vocabMap, merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])) }),
  Unigram: z.looseObject({ vocab: z.array(z.tuple([z.string(), z.number()])), unk_id: tokenId.nullable().optional() }),
};

const top = z.looseObject({
  model: z.looseObject({ type: z.string().optional() }),
  added_tokens: z.array(addedToken).optional(),
  normalizer: z.looseObject({ type: z.string() }).nullable().optional(),
  pre_tokenizer: z.looseObject({ type: z.string() }).nullable().optional(),
  post_processor: z.looseObject({ type: z.string() }).nullable().optional(),
  decoder: z.looseObject({ type: z.string() }).nullable().optional(),
});

const specialEntry = z.looseObject({ id: z.string(), ids: z.array(tokenId), tokens: z.array(z.string()) });
const piece = z.union([
  z.object({ SpecialToken: z.looseObject({ id: z.string(), type_id: z.number().int().min(0) }) }),
  z.object({ Sequence: z.looseObject({ id: z.enum(["A", "B"]), type_id: z.number().int().min(0) }) }),
]);
const template = z.looseObject({ single: z.array(piece), pair: z.array(piece), special_tokens: z.record(z.string(), specialEntry) });
const pairProcessing = z.looseObject({ sep: z.tuple([z.string(), tokenId]), cls: z.tuple([z.string(), tokenId]) });

/**
 * Throws a WhetError naming `where`, the key and what was expected when `json` is not a
 * tokenizer.json the Rust core can take safely.
 */
export function checkTokenizerJson(json: unknown, where: string): void {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new WhetError(`${where}: expected a JSON object (a tokenizers tokenizer.json)`);
  checkSchema(top, json, where, "");
  const t = json as Record<string, unknown>;
  const model = t.model as Record<string, unknown>;
  const type = typeof model.type === "string" ? model.type : guessModelType(model);
  const schema = MODELS[type];
  if (!schema) throw new WhetError(`${where}: "model.type" is "${type}"; expected one of ${Object.keys(MODELS).join(", ")}`);
  checkSchema(schema, model, where, "model.");
  if (!Array.isArray(model.vocab)) checkVocab(model.vocab as Record<string, unknown>, where);
  if (t.post_processor) checkProcessor(t.post_processor as Record<string, unknown>, where, "post_processor");
}

function checkVocab(vocab: Record<string, unknown>, where: string): void {
  for (const k in vocab) {
    const v = vocab[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) {
      throw new WhetError(`${where}: "model.vocab.${k}": expected a token id (a whole number of at least 0), got ${JSON.stringify(v)}`);
    }
  }
}

function checkProcessor(p: Record<string, unknown>, where: string, at: string): void {
  if (p.type === "TemplateProcessing") {
    checkSchema(template, p, where, `${at}.`);
    const specials = p.special_tokens as Record<string, { ids: number[]; tokens: string[] }>;
    for (const [name, entry] of Object.entries(specials)) {
      if (entry.ids.length !== entry.tokens.length) {
        throw new WhetError(`${where}: "${at}.special_tokens.${name}" has ${entry.ids.length} ids but ${entry.tokens.length} tokens`);
      }
    }
    for (const side of ["single", "pair"] as const) {
      for (const pc of p[side] as { SpecialToken?: { id: string } }[]) {
        const id = pc.SpecialToken?.id;
        if (id !== undefined && !(id in specials)) {
          throw new WhetError(`${where}: "${at}.${side}" uses the special token "${id}", which "${at}.special_tokens" does not define`);
        }
      }
    }
  } else if (p.type === "BertProcessing" || p.type === "RobertaProcessing") {
    checkSchema(pairProcessing, p, where, `${at}.`);
  } else if (p.type === "Sequence") {
    const list = p.processors;
    if (!Array.isArray(list)) throw new WhetError(`${where}: "${at}.processors" must be an array`);
    list.forEach((q, i) => {
      if (typeof q !== "object" || q === null) throw new WhetError(`${where}: "${at}.processors.${i}" must be an object`);
      checkProcessor(q as Record<string, unknown>, where, `${at}.processors.${i}`);
    });
  }
}

/** Older files omit model.type; the core then tries each model in turn. */
function guessModelType(model: Record<string, unknown>): string {
  if (Array.isArray(model.vocab)) return "Unigram";
  if ("merges" in model) return "BPE";
  if ("continuing_subword_prefix" in model || "max_input_chars_per_word" in model) return "WordPiece";
  return "WordLevel";
}

/** Throws a WhetError `where: "key": expected …, got …` for the first issue of `value` against `schema`. */
export function checkSchema(schema: z.ZodType, value: unknown, where: string, prefix: string): void {
  const r = schema.safeParse(value);
  if (r.success) return;
  const issue = r.error.issues[0]!;
  const key = prefix + issue.path.join(".");
  const got = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], value);
  const shown = got === undefined ? "nothing" : JSON.stringify(got).slice(0, 80);
  const expected = issue.code === "invalid_type" ? `expected ${issue.expected}` : issue.message;
  throw new WhetError(`${where}: "${key}": ${expected}, got ${shown}`);
}
