// Train a BERT-style WordPiece vocabulary on a corpus and write a complete tokenizer folder:
// vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json.
//
// Why the merges are learned here and not by the `tokenizers` package's trainer: upstream numbers
// the "##" pieces in hash-map order, and those numbers break ties between merges of equal count,
// so two runs on the same corpus give different vocabularies (huggingface/tokenizers#1794; the
// fix, PR #2066, is still open), and the npm binding exposes no trainer options to avoid it. The
// text still goes through the Rust core's BERT normalizer and pre-tokenizer, so the words counted
// are the ones its trainer would count; wordpiece_merges.ts runs the same merge loop on fixed ids.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bertNormalizer, bertPreTokenizer } from "tokenizers";
import { WhetError } from "../core/errors.js";
import { loadTokenizer } from "./load.js";
import { pythonJson } from "./save_tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";
import { learnWordPieces } from "./wordpiece_merges.js";

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
 * `loadTokenizer(dir)` (and Python's AutoTokenizer) loads. The same texts give the same files
 * byte for byte, whatever their order.
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
  const { pieces, alphabetSize } = learnWordPieces(countWords(texts, lowercase), { maxPieces: o.vocabSize - specials.length });
  if (specials.length + alphabetSize > o.vocabSize) {
    throw new WhetError(`training a WordPiece vocabulary: vocab_size ${o.vocabSize} is smaller than the corpus alphabet (${alphabetSize} single characters and their "##" forms, plus ${specials.length} special tokens)`);
  }
  const vocab = [...specials, ...pieces];
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

// Characters of text per call into the Rust normalizer: fewer calls cost less, but its time grows
// faster than the input (100k WordNet glosses took 5x longer in 650 kB calls than in 65 kB ones).
const NORMALIZE_BATCH_CHARS = 64 * 1024;

/**
 * How often each word occurs, a word being a piece of the BERT pre-tokenizer's split of the
 * normalized text: what upstream's trainer counts.
 */
function countWords(texts: Iterable<string>, lowercase: boolean): Map<string, number> {
  const chunks = countSpaceSeparated(texts, lowercase);
  // Each distinct chunk once: what costs is handing every piece back through napi, and 100k
  // WordNet glosses have 1.4M words but 92k distinct chunks (0.4 s instead of 2 s).
  const preTokenizer = bertPreTokenizer();
  const words = new Map<string, number>();
  for (const [chunk, n] of chunks) {
    for (const [word] of preTokenizer.preTokenizeString(chunk)) words.set(word, (words.get(word) ?? 0) + n);
  }
  if (words.size === 0) throw new WhetError("training a WordPiece vocabulary: the corpus has no text");
  return words;
}

/**
 * Normalize `texts` in batches and count the space-separated chunks. Joining lines is safe: the
 * normalizer works character by character, and turns the joining newline (and, with clean_text,
 * every other whitespace) into " ", which the pre-tokenizer splits on anyway.
 */
function countSpaceSeparated(texts: Iterable<string>, lowercase: boolean): Map<string, number> {
  const normalizer = bertNormalizer({ lowercase, stripAccents: lowercase, cleanText: true, handleChineseChars: true });
  const chunks = new Map<string, number>();
  let batch: string[] = [];
  let size = 0;
  const flush = (): void => {
    for (const chunk of normalizer.normalizeString(batch.join("\n")).split(" ")) {
      if (chunk) chunks.set(chunk, (chunks.get(chunk) ?? 0) + 1);
    }
    batch = [];
    size = 0;
  };
  for (const t of texts) {
    batch.push(t);
    size += t.length;
    if (size >= NORMALIZE_BATCH_CHARS) flush();
  }
  if (batch.length > 0) flush();
  return chunks;
}
