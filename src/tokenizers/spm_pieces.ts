// What the sentencepiece library's `encode(text, out_type=str)` and `decode_pieces(pieces)` do
// for a Unigram ModelProto, for tokenizers (MarianTokenizer) that look pieces up in their own
// vocabulary instead of using the model's ids. The Rust `tokenizers` core runs the normaliser
// (the model's precompiled charsmap, e.g. nmt_nfkc) and the Viterbi search; the decoder rules
// follow sentencepiece_processor.cc (Decode / DecodeSentencePiece).
import { Tokenizer as NativeTokenizer } from "tokenizers";
import { WhetError } from "../core/errors.js";
import type { SpmModel } from "./sentencepiece.js";

const SPACE = "\u2581";
const NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4;

/** tokenizer.json pieces for the Rust core: pieces the sentencepiece lattice may use, with their scores. */
function latticeVocab(spm: SpmModel): [string, number][] {
  const normal = spm.pieces.filter((p) => p.type === NORMAL);
  const maxScore = Math.max(0, ...normal.map((p) => p.score));
  // The unknown entry contains a space, which never reaches the model (Metaspace turned them
  // into "▁"): the lattice cannot pick it as a piece, only as the unknown fallback, as in spm.
  const vocab: [string, number][] = [[`${spm.unkPiece} `, 0]];
  for (const p of spm.pieces) {
    if (p.type === NORMAL) vocab.push([p.piece, p.score]);
    // unigram_model.cc: a user-defined piece always wins over the pieces it spans.
    else if (p.type === USER_DEFINED) vocab.push([p.piece, [...p.piece].length * maxScore - 0.1]);
  }
  return vocab;
}

/**
 * A Unigram SentencePiece model as a piece encoder / decoder.
 *
 * @example
 * const spm = new SpmPieces(parseSpmModel(readFileSync("source.spm")), "source.spm");
 * await spm.encode("Hello world"); // ["▁Hello", "▁world"]
 */
export class SpmPieces {
  private readonly native: NativeTokenizer;
  private readonly types = new Map<string, number>();

  constructor(
    readonly spm: SpmModel,
    readonly what: string,
  ) {
    if (spm.modelType !== 1) {
      throw new WhetError(
        `"${what}" is a SentencePiece model of type ${spm.modelType}: piece-level encoding is implemented for Unigram (type 1) models`,
      );
    }
    for (const p of spm.pieces) if (!this.types.has(p.piece)) this.types.set(p.piece, p.type);
    const normalizers: unknown[] = [];
    if (spm.precompiledCharsmap.length > 0) {
      normalizers.push({
        type: "Precompiled",
        precompiled_charsmap: Buffer.from(spm.precompiledCharsmap).toString("base64"),
      });
    }
    if (spm.removeExtraWhitespaces) {
      normalizers.push(
        { type: "Replace", pattern: { Regex: " {2,}" }, content: " " },
        { type: "Strip", strip_left: true, strip_right: true },
      );
    }
    const json = {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: [],
      post_processor: null,
      decoder: null,
      normalizer: { type: "Sequence", normalizers },
      pre_tokenizer: {
        type: "Metaspace",
        replacement: SPACE,
        prepend_scheme: spm.addDummyPrefix ? "always" : "never",
        split: false,
      },
      model: { type: "Unigram", unk_id: 0, vocab: latticeVocab(spm), byte_fallback: false },
    };
    try {
      this.native = NativeTokenizer.fromString(JSON.stringify(json));
    } catch (e) {
      throw new WhetError(`Cannot build a piece encoder from "${what}": ${(e as Error).message}`);
    }
  }

  /** The pieces of a text; a run of characters the model does not know comes back as one piece of that text. */
  async encode(text: string): Promise<string[]> {
    // Whitespace only normalises to nothing in spm; Metaspace would still emit the dummy prefix.
    if (this.spm.removeExtraWhitespaces && text.trim() === "") return [];
    return (await this.native.encode(text, null, { addSpecialTokens: false })).getTokens();
  }

  /** Whether the model has this piece (any type): pieces it lacks decode verbatim. */
  has(piece: string): boolean {
    return this.types.has(piece);
  }

  /**
   * Pieces back to text as `decode_pieces`: control pieces vanish, the unknown piece becomes
   * " ⁇ ", a piece the model lacks is copied verbatim ("▁" included), "▁" becomes a space
   * and the leading space of the text is dropped.
   */
  decodePieces(pieces: readonly string[]): string {
    let text = "";
    let bosWsSeen = false;
    for (const piece of pieces) {
      // With remove_extra_whitespaces every leading "▁" is eaten until some text is written.
      const isBosWs = !(bosWsSeen || text.length > 0);
      const type = this.types.get(piece);
      if (type === CONTROL) {
        bosWsSeen = false;
        continue;
      }
      if (type === undefined || type === UNKNOWN) {
        text += type === UNKNOWN ? " \u2047 " : piece;
        bosWsSeen = false;
        continue;
      }
      let p = piece;
      let consumed = false;
      if (isBosWs && (this.spm.addDummyPrefix || this.spm.removeExtraWhitespaces) && p.startsWith(SPACE)) {
        p = p.slice(SPACE.length);
        consumed = !this.spm.removeExtraWhitespaces;
      }
      bosWsSeen = consumed;
      text += p.replaceAll(SPACE, " ");
    }
    return text;
  }
}
