// MarianTokenizer as transformers 4.30 runs it (a slow tokenizer: there is no MarianTokenizerFast):
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/models/marian/tokenization_marian.py
// source.spm splits inputs, target.spm splits labels and joins outputs, and the pieces are looked
// up in vocab.json (the model's ids are vocab.json ids, never the SentencePiece ids).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { parseSpmModel } from "./sentencepiece.js";
import { SpmPieces } from "./spm_pieces.js";

export interface MarianEncodeOptions {
  /** Tokenize with target.spm (labels) instead of source.spm (inputs). */
  target?: boolean;
  /** Keep at most this many ids, </s> included (as truncation=True does); default: no limit. */
  maxLength?: number;
}

export interface MarianDecodeOptions {
  /** Drop </s>, <unk> and <pad> (default true, as the translation pipeline does). */
  skipSpecialTokens?: boolean;
  /** Join " ." -> "." and the like; default tokenizer_config.json's clean_up_tokenization_spaces (true). */
  cleanUpTokenizationSpaces?: boolean;
}

// Python's re.compile(">>.+<<"): "." stops at a newline only.
const LANGUAGE_CODE_AT_START = /^>>[^\n]+<</;
const LANGUAGE_CODE = />>[^\n]+<</g;

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new WhetError(`Cannot read "${path}": ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new WhetError(`"${path}" is not valid JSON: ${(e as Error).message}`);
  }
}

function readVocab(path: string): Map<string, number> {
  const raw = readJsonFile(path);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new WhetError(`"${path}" must map piece strings to ids`);
  const vocab = new Map<string, number>();
  for (const [piece, id] of Object.entries(raw)) {
    if (!Number.isInteger(id) || (id as number) < 0)
      throw new WhetError(`"${path}": the id of "${piece}" must be a non-negative integer, got ${JSON.stringify(id)}`);
    vocab.set(piece, id as number);
  }
  return vocab;
}

function readSpm(dir: string, name: string): SpmPieces {
  const path = join(dir, name);
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new WhetError(`Cannot read the MarianTokenizer file "${path}": ${(e as Error).message}`);
  }
  return new SpmPieces(parseSpmModel(buf, path), path);
}

function invert(vocab: Map<string, number>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [piece, id] of vocab) if (!out.has(id)) out.set(id, piece);
  return out;
}

/**
 * A Helsinki-NLP opus-mt tokenizer folder: source.spm, target.spm, vocab.json (and
 * target_vocab.json when tokenizer_config.json says separate_vocabs).
 *
 * @example
 * const tok = loadMarianTokenizer("models/opus-mt-en-de");
 * const ids = await tok.encode("Hello world"); // [..., 0]: pieces' vocab.json ids, then </s>
 * tok.decode([123, 45, 0]); // the target text
 */
export class MarianTokenizer {
  readonly eosToken: string;
  readonly unkToken: string;
  readonly padToken: string;
  readonly eosTokenId: number;
  readonly unkTokenId: number;
  readonly padTokenId: number;
  private readonly targetIdToPiece: Map<number, string>;
  private readonly targetVocab: Map<string, number>;

  constructor(
    readonly source: SpmPieces,
    readonly target: SpmPieces,
    readonly vocab: Map<string, number>,
    readonly config: Record<string, unknown>,
    targetVocab?: Map<string, number>,
  ) {
    const tokenOf = (key: string, dflt: string) => (typeof config[key] === "string" ? (config[key] as string) : dflt);
    this.eosToken = tokenOf("eos_token", "</s>");
    this.unkToken = tokenOf("unk_token", "<unk>");
    this.padToken = tokenOf("pad_token", "<pad>");
    this.targetVocab = targetVocab ?? vocab;
    const idOf = (token: string) => {
      const id = vocab.get(token);
      if (id === undefined) throw new WhetError(`MarianTokenizer: the special token "${token}" is not in vocab.json`);
      return id;
    };
    this.eosTokenId = idOf(this.eosToken);
    this.unkTokenId = idOf(this.unkToken);
    this.padTokenId = idOf(this.padToken);
    this.targetIdToPiece = invert(this.targetVocab);
  }

  get specialTokens(): string[] {
    return [this.eosToken, this.unkToken, this.padToken];
  }

  /** tokenizer_config.json's model_max_length (512 for the opus-mt models); Infinity when absent. */
  get modelMaxLength(): number {
    const v = this.config.model_max_length;
    return typeof v === "number" && v < 1e29 ? v : Infinity;
  }

  /**
   * The pieces of a text (Python's `tokenizer.tokenize`): special tokens written in the text
   * stay whole (their neighbours lose adjacent spaces), a leading ">>xx<<" language code is one
   * piece and every language code is removed before SentencePiece.
   */
  async tokenize(text: string, opts: { target?: boolean } = {}): Promise<string[]> {
    const spm = opts.target ? this.target : this.source;
    const out: string[] = [];
    for (const part of this.splitSpecial(text)) {
      if (part.special) out.push(part.text);
      else {
        const code = LANGUAGE_CODE_AT_START.exec(part.text);
        out.push(...(code ? [code[0]] : []), ...(await spm.encode(part.text.replace(LANGUAGE_CODE, ""))));
      }
    }
    return out;
  }

  /** Ids of a text, </s> appended (no BOS), as `tokenizer(text).input_ids`. */
  async encode(text: string, opts: MarianEncodeOptions = {}): Promise<number[]> {
    if (typeof text !== "string") throw new WhetError(`MarianTokenizer.encode: expected a string, got ${typeof text}`);
    const vocab = opts.target ? this.targetVocab : this.vocab;
    const ids = (await this.tokenize(text, opts)).map((p) => vocab.get(p) ?? this.unkTokenId);
    const limit = opts.maxLength;
    if (limit !== undefined && ids.length + 1 > limit) ids.length = Math.max(0, limit - 1);
    ids.push(this.eosTokenId);
    return ids;
  }

  /**
   * A right-padded batch: `input_ids` and `attention_mask` rows of equal length.
   */
  async encodeBatch(
    texts: readonly string[],
    opts: MarianEncodeOptions = {},
  ): Promise<{ inputIds: number[][]; attentionMask: number[][] }> {
    const rows = await Promise.all(texts.map((t) => this.encode(t, opts)));
    const width = Math.max(0, ...rows.map((r) => r.length));
    return {
      inputIds: rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(this.padTokenId)]),
      attentionMask: rows.map((r) => [
        ...new Array<number>(r.length).fill(1),
        ...new Array<number>(width - r.length).fill(0),
      ]),
    };
  }

  /** Generated ids back to text, as `tokenizer.decode(ids, skip_special_tokens=...)`. */
  decode(ids: readonly number[], opts: MarianDecodeOptions = {}): string {
    const skip = opts.skipSpecialTokens ?? true;
    const specialIds = new Set([this.eosTokenId, this.unkTokenId, this.padTokenId]);
    const tokens = ids
      .filter((id) => !(skip && specialIds.has(id)))
      .map((id) => this.targetIdToPiece.get(id) ?? this.unkToken);
    const specials = new Set(this.specialTokens);
    let text = "";
    let run: string[] = [];
    for (const t of tokens) {
      if (specials.has(t)) {
        text += `${this.target.decodePieces(run)}${t} `;
        run = [];
      } else run.push(t);
    }
    text = (text + this.target.decodePieces(run)).trim();
    const cleanUp = opts.cleanUpTokenizationSpaces ?? this.config.clean_up_tokenization_spaces !== false;
    return cleanUp ? cleanUpTokenization(text) : text;
  }

  /** Split on the special tokens' texts, as PreTrainedTokenizer.tokenize does (longest first, left to right). */
  private splitSpecial(text: string): { text: string; special: boolean }[] {
    const specials = [...this.specialTokens].sort((a, b) => b.length - a.length);
    const parts: { text: string; special: boolean }[] = [];
    let start = 0;
    for (let i = 0; i < text.length;) {
      const hit = specials.find((s) => text.startsWith(s, i));
      if (!hit) {
        i++;
        continue;
      }
      parts.push({ text: text.slice(start, i), special: false }, { text: hit, special: true });
      i += hit.length;
      start = i;
    }
    parts.push({ text: text.slice(start), special: false });
    // A special token given as a plain string strips the spaces next to it (tokenize's default).
    for (let i = 0; i < parts.length; i++) {
      if (!parts[i].special) continue;
      if (i > 0) parts[i - 1].text = parts[i - 1].text.trimEnd();
      if (i + 1 < parts.length) parts[i + 1].text = parts[i + 1].text.trimStart();
    }
    return parts.filter((p) => p.special || p.text.length > 0);
  }
}

/** PreTrainedTokenizerBase.clean_up_tokenization. */
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

/** Whether a folder holds a MarianTokenizer (source.spm, target.spm, vocab.json). */
export function isMarianTokenizerDir(dir: string): boolean {
  return ["source.spm", "target.spm", "vocab.json"].every((f) => existsSync(join(dir, f)));
}

/**
 * Load source.spm, target.spm, vocab.json (+ target_vocab.json) and tokenizer_config.json from a folder.
 *
 * @example
 * const tok = loadMarianTokenizer("models/opus-mt-en-de");
 * const ids = await tok.encode("Hello world"); // source.spm pieces, then </s>
 */
export function loadMarianTokenizer(dir: string): MarianTokenizer {
  const missing = ["source.spm", "target.spm", "vocab.json"].filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new WhetError(
      `"${dir}" is not a MarianTokenizer folder: ${missing.join(", ")} missing (opus-mt models ship source.spm, target.spm and vocab.json)`,
    );
  }
  const cfgPath = join(dir, "tokenizer_config.json");
  const config = existsSync(cfgPath) ? (readJsonFile(cfgPath) as Record<string, unknown>) : {};
  if (config === null || typeof config !== "object") throw new WhetError(`"${cfgPath}" must hold a JSON object`);
  const vocab = readVocab(join(dir, "vocab.json"));
  let targetVocab: Map<string, number> | undefined;
  if (config.separate_vocabs === true) {
    const path = join(dir, "target_vocab.json");
    if (!existsSync(path)) throw new WhetError(`"${cfgPath}" sets separate_vocabs but "${path}" does not exist`);
    targetVocab = readVocab(path);
  }
  return new MarianTokenizer(readSpm(dir, "source.spm"), readSpm(dir, "target.spm"), vocab, config, targetVocab);
}
