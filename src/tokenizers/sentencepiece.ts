// XLM-RoBERTa's slow tokenizer file, sentencepiece.bpe.model (a SentencePiece ModelProto in
// protobuf wire format; despite the name a Unigram model), converted to tokenizer.json as
// transformers' XLMRobertaConverter / SpmConverter do in 4.30:
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/convert_slow_tokenizer.py
// The few fields needed are read by hand: sentencepiece_model.proto is stable and a full protobuf
// schema would be more code than this reader.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { withDefaults, SPECIAL_TOKEN_KEYS, type ResolvedConfig } from "./tokenizer_config.js";
import { specialAddedTokens, type TokenizerJson } from "./convert.js";
import { assertRegularFile } from "../core/regular_file.js";

export interface SpmPiece {
  piece: string;
  score: number;
  /** 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
  type: number;
}

export interface SpmModel {
  pieces: SpmPiece[];
  /** 1 Unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  byteFallback: boolean;
  precompiledCharsmap: Uint8Array;
  /** NormalizerSpec: prepend one "▁" (true unless the model says otherwise). */
  addDummyPrefix: boolean;
  /** NormalizerSpec: trim and collapse runs of spaces (true unless the model says otherwise). */
  removeExtraWhitespaces: boolean;
  /** TrainerSpec's unknown piece ("<unk>"). */
  unkPiece: string;
}

/** A protobuf wire-format cursor: just varints, fixed32 and length-delimited fields. */
class Wire {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw this.error("truncated varint");
      const b = this.buf[this.pos++];
      v += (b & 0x7f) * mul; // multiply, not shift: values may pass 2^31
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    throw this.error("varint longer than 10 bytes");
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw this.error(`field of ${n} bytes runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  float32(): number {
    if (this.pos + 4 > this.buf.length) throw this.error("truncated float");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  /** Each field as [number, wire type]; the caller reads the value or calls skip(). */
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t & 7];
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw this.error(`unsupported wire type ${wire}`);
  }

  private error(msg: string): WhetError {
    return new WhetError(`Malformed SentencePiece model "${this.what}" at byte ${this.pos}: ${msg}`);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Parse the fields of a ModelProto that the converters use. */
export function parseSpmModel(buf: Uint8Array, what = "sentencepiece model"): SpmModel {
  const m: SpmModel = {
    pieces: [], modelType: 1, byteFallback: false, precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true, removeExtraWhitespaces: true, unkPiece: "<unk>",
  };
  const top = new Wire(buf, what);
  while (!top.done) {
    const [field, wire] = top.tag();
    if (field === 1 && wire === 2) {
      const w = new Wire(top.bytes(), what);
      const p: SpmPiece = { piece: "", score: 0, type: 1 };
      while (!w.done) {
        const [f, t] = w.tag();
        if (f === 1 && t === 2) p.piece = utf8.decode(w.bytes());
        else if (f === 2 && t === 5) p.score = w.float32();
        else if (f === 3 && t === 0) p.type = w.varint();
        else w.skip(t);
      }
      m.pieces.push(p);
    } else if (field === 2 && wire === 2) {
      const w = new Wire(top.bytes(), what); // TrainerSpec
      while (!w.done) {
        const [f, t] = w.tag();
        if (f === 3 && t === 0) m.modelType = w.varint();
        else if (f === 35 && t === 0) m.byteFallback = w.varint() !== 0;
        else if (f === 45 && t === 2) m.unkPiece = utf8.decode(w.bytes());
        else w.skip(t);
      }
    } else if (field === 3 && wire === 2) {
      const w = new Wire(top.bytes(), what); // NormalizerSpec
      while (!w.done) {
        const [f, t] = w.tag();
        if (f === 2 && t === 2) m.precompiledCharsmap = w.bytes().slice();
        else if (f === 3 && t === 0) m.addDummyPrefix = w.varint() !== 0;
        else if (f === 4 && t === 0) m.removeExtraWhitespaces = w.varint() !== 0;
        else w.skip(t);
      }
    } else top.skip(wire);
  }
  if (m.pieces.length < 3) throw new WhetError(`SentencePiece model "${what}" has ${m.pieces.length} pieces: not a usable vocabulary`);
  return m;
}

/** XLMRobertaConverter: fairseq's id layout (<s> <pad> </s> <unk>, pieces from the 4th on shifted by one, <mask> last). */
export function xlmrTokenizerJson(dir: string, cfg: ResolvedConfig): TokenizerJson {
  const path = join(dir, "sentencepiece.bpe.model");
  let buf: Uint8Array;
  try {
    assertRegularFile(path);
    buf = readFileSync(path);
  } catch (e) {
    throw new WhetError(`Cannot read tokenizer file "${path}": ${(e as Error).message}`);
  }
  const spm = parseSpmModel(buf, path);
  if (spm.modelType !== 1 && spm.modelType !== 2) {
    throw new WhetError(`"${path}" is a SentencePiece model of type ${spm.modelType} (${spm.modelType === 3 ? "word" : "char"}); Unigram (1) and BPE (2) are supported, as transformers' SpmConverter: save the tokenizer with tokenizer.json instead`);
  }
  const vocab: [string, number][] = [["<s>", 0], ["<pad>", 0], ["</s>", 0], ["<unk>", 0]];
  for (const p of spm.pieces.slice(3)) vocab.push([p.piece, p.score]);
  vocab.push(["<mask>", 0]);
  withDefaults(cfg, { bos_token: "<s>", eos_token: "</s>", sep_token: "</s>", cls_token: "<s>", unk_token: "<unk>", pad_token: "<pad>", mask_token: "<mask>" });
  // XLMRobertaTokenizer.__init__: a plain-string mask token becomes AddedToken(lstrip=True), normalized.
  const mask = cfg.special.mask_token;
  if (mask && !mask.asDict) cfg.special.mask_token = { ...mask, lstrip: true, normalized: true, asDict: true };
  const ids = new Map<string, number>();
  vocab.forEach(([p], i) => {
    if (!ids.has(p)) ids.set(p, i);
  });
  const added = specialAddedTokens(cfg, ids);
  const idOf = (key: (typeof SPECIAL_TOKEN_KEYS)[number]) => {
    const t = cfg.special[key];
    if (!t) throw new WhetError(`Cannot build a tokenizer from "${dir}": no ${key}`);
    return { content: t.content, id: added.find((a) => a.content === t.content)!.id };
  };
  const cls = idOf("cls_token");
  const sep = idOf("sep_token");
  const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const sequence = (id: string) => ({ Sequence: { id, type_id: 0 } });
  const replaceSpaces = { type: "Replace", pattern: { Regex: " {2,}" }, content: " " };
  // The dummy prefix as the model says (transformers 4.30 always added it; later converters and
  // sentencepiece itself honour add_dummy_prefix).
  const metaspace = { replacement: "\u2581", prepend_scheme: spm.addDummyPrefix ? "always" : "never", split: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "Sequence",
      normalizers:
        spm.precompiledCharsmap.length > 0
          ? [{ type: "Precompiled", precompiled_charsmap: Buffer.from(spm.precompiledCharsmap).toString("base64") }, replaceSpaces]
          : [replaceSpaces],
    },
    pre_tokenizer: { type: "Metaspace", ...metaspace },
    post_processor: {
      type: "TemplateProcessing",
      single: [special(cls.content), sequence("A"), special(sep.content)],
      pair: [special(cls.content), sequence("A"), special(sep.content), special(sep.content), sequence("B"), special(sep.content)],
      special_tokens: {
        [cls.content]: { id: cls.content, ids: [cls.id], tokens: [cls.content] },
        [sep.content]: { id: sep.content, ids: [sep.id], tokens: [sep.content] },
      },
    },
    decoder: spm.byteFallback
      ? { type: "Sequence", decoders: [{ type: "ByteFallback" }, { type: "Metaspace", ...metaspace }] }
      : { type: "Metaspace", ...metaspace },
    model: spm.modelType === 2 ? spmBpeModel(spm, vocab) : { type: "Unigram", unk_id: 3, vocab, byte_fallback: spm.byteFallback },
  };
}

/**
 * The merges SentencePieceExtractor derives from a BPE model: every pair of pieces whose
 * concatenation is a piece, ranked by that piece's id (lower first; SentencePiece orders BPE
 * pieces by merge priority), ties in the order of the left then the right piece's id.
 */
export function spmBpeMerges(spm: SpmModel): [string, string][] {
  const id = new Map<string, number>();
  spm.pieces.forEach((p, i) => {
    if (!id.has(p.piece)) id.set(p.piece, i);
  });
  const merges: [number, number, number, string, string][] = [];
  for (const [piece, merged] of id) {
    if (merged === 0) continue; // the extractor's `if piece_score:` skips id 0
    const chars = [...piece];
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join(""), right = chars.slice(k).join("");
      const l = id.get(left), r = id.get(right);
      if (l !== undefined && r !== undefined) merges.push([merged, l, r, left, right]);
    }
  }
  merges.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  return merges.map(([, , , left, right]) => [left, right]);
}

/**
 * SpmConverter's model for model_type 2: BPE over the converted vocabulary with the extracted
 * merges, unknown runs fused into one unknown token (fuse_unk), byte pieces when the model has them.
 */
function spmBpeModel(spm: SpmModel, vocab: readonly [string, number][]): Record<string, unknown> {
  const ids: Record<string, number> = {};
  vocab.forEach(([piece], i) => (ids[piece] = i)); // a Python dict comprehension: the last id wins
  return {
    type: "BPE", dropout: null, unk_token: spm.unkPiece, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: true, byte_fallback: spm.byteFallback, vocab: ids, merges: spmBpeMerges(spm),
  };
}
