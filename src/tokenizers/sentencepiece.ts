// XLM-RoBERTa's slow tokenizer file, sentencepiece.bpe.model (a SentencePiece ModelProto in
// protobuf wire format; despite the name a Unigram model), converted to tokenizer.json as
// transformers' XLMRobertaConverter / SpmConverter do in 4.30:
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/convert_slow_tokenizer.py
// The few fields needed are read by hand: sentencepiece_model.proto is stable and a full protobuf
// schema would be more code than this reader.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { withDefaults, SPECIAL_TOKEN_KEYS, type ResolvedConfig } from "./config.js";
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
  const m: SpmModel = { pieces: [], modelType: 1, byteFallback: false, precompiledCharsmap: new Uint8Array(0) };
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
        else w.skip(t);
      }
    } else if (field === 3 && wire === 2) {
      const w = new Wire(top.bytes(), what); // NormalizerSpec
      while (!w.done) {
        const [f, t] = w.tag();
        if (f === 2 && t === 2) m.precompiledCharsmap = w.bytes().slice();
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
  if (spm.modelType !== 1) {
    throw new WhetError(`"${path}" is a SentencePiece model of type ${spm.modelType}; only Unigram (type 1, as XLM-R uses) is supported: save the tokenizer with tokenizer.json instead`);
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
  const metaspace = { replacement: "\u2581", prepend_scheme: "always", split: true };
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
    decoder: { type: "Metaspace", ...metaspace },
    model: { type: "Unigram", unk_id: 3, vocab, byte_fallback: spm.byteFallback },
  };
}
