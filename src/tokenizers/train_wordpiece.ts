// Train a BERT-style WordPiece vocabulary on a corpus with the `tokenizers` package's trainer
// (the Rust core behind Python's BertWordPieceTokenizer.train), and write a complete tokenizer
// folder: vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as NativeTokenizer, WordPiece, bertNormalizer, bertPreTokenizer } from "tokenizers";
import { WhetError } from "../core/errors.js";
import { loadTokenizer } from "./load.js";
import { pythonJson } from "./save.js";
import type { Tokenizer } from "./tokenizer.js";

/** The special tokens first, in the order Python's BertWordPieceTokenizer.train puts them (ids 0..4). */
export const BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

export interface TrainWordPieceOptions {
  /** Total vocabulary size, the special tokens included. */
  vocabSize: number;
  /** Lower-case (and strip accents) before splitting, as bert-base-uncased does (default true). */
  lowercase?: boolean;
  /** Written as model_max_length (default 512). */
  modelMaxLength?: number;
}

/**
 * Learn a WordPiece vocabulary from `texts` and save a tokenizer folder in `dir` that
 * `loadTokenizer(dir)` (and Python's AutoTokenizer) loads.
 *
 * The npm binding exposes only `Tokenizer.train(files)` with the model's default trainer
 * (30,000 pieces, no special tokens), so the corpus goes through a temporary file and the
 * vocabulary is cut to `vocabSize`: the trainer adds the alphabet first and then one piece per
 * merge, in order, so the first k pieces are what a trainer stopped at k would have produced.
 *
 * @example
 * const tok = await trainWordPiece(["a first document", "a second one"], "out/tokenizer", { vocabSize: 200 });
 */
export async function trainWordPiece(texts: Iterable<string>, dir: string, o: TrainWordPieceOptions): Promise<Tokenizer> {
  const lowercase = o.lowercase ?? true;
  const specials: readonly string[] = BERT_SPECIAL_TOKENS;
  if (!Number.isInteger(o.vocabSize) || o.vocabSize <= specials.length) {
    throw new WhetError(`training a WordPiece vocabulary: vocab_size must be an integer above ${specials.length}, got ${o.vocabSize}`);
  }
  const tmp = mkdtempSync(join(tmpdir(), "whet-wordpiece-"));
  let pieces: string[];
  try {
    const corpus = join(tmp, "corpus.txt");
    let lines = 0;
    const chunks: string[] = [];
    for (const t of texts) {
      const line = t.replace(/[\r\n]+/g, " ").trim();
      if (line) {
        chunks.push(line);
        lines++;
      }
    }
    if (lines === 0) throw new WhetError("training a WordPiece vocabulary: the corpus has no text");
    writeFileSync(corpus, chunks.join("\n") + "\n");
    const native = new NativeTokenizer(WordPiece.empty());
    native.setNormalizer(bertNormalizer({ lowercase, stripAccents: lowercase, cleanText: true, handleChineseChars: true }));
    native.setPreTokenizer(bertPreTokenizer());
    native.train([corpus]);
    pieces = Object.entries(native.getVocab(false)).sort((a, b) => a[1] - b[1]).map(([p]) => p).filter((p) => !specials.includes(p));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const alphabet = pieces.filter((p) => [...p.replace(/^##/, "")].length === 1).length;
  if (specials.length + alphabet > o.vocabSize) {
    throw new WhetError(`training a WordPiece vocabulary: vocab_size ${o.vocabSize} is smaller than the corpus alphabet (${alphabet} single characters and their "##" forms, plus ${specials.length} special tokens)`);
  }
  const vocab = [...specials, ...pieces.slice(0, o.vocabSize - specials.length)];
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "vocab.txt"), vocab.map((p) => p + "\n").join(""));
  const config = {
    tokenizer_class: "BertTokenizer",
    do_lower_case: lowercase,
    strip_accents: null,
    tokenize_chinese_chars: true,
    model_max_length: o.modelMaxLength ?? 512,
    unk_token: "[UNK]", sep_token: "[SEP]", pad_token: "[PAD]", cls_token: "[CLS]", mask_token: "[MASK]",
    clean_up_tokenization_spaces: true,
  };
  writeFileSync(join(dir, "tokenizer_config.json"), pythonJson(config));
  // Built from vocab.txt the way transformers' BertConverter builds it, then saved with tokenizer.json.
  const tok = await loadTokenizer(dir);
  await tok.save(dir);
  return loadTokenizer(dir);
}
