/**
 * Prediction over a file, streamed: records are read, tokenized, run through the eval-mode
 * forward and written a batch at a time, so memory stays bounded however long the file is.
 * Output is JSON Lines, one line per input record in input order:
 * - sequence classification: `{label, score}` (multi-label: `{labels, scores}`; regression: the value
 *   as score), with `logits` on request;
 * - token classification: `{entities, tags}` (+ `words` for text input) — transformers'
 *   TokenClassificationPipeline output for `aggregation_strategy` (data/token_entities.ts) and one
 *   tag per word. Offsets are characters of the text; for pre-tokenized input (`{"tokens": […]}`)
 *   of the words joined by single spaces (the text training encodes), and `tags[i]` is word i's.
 *
 * @example
 * const { model, dir } = await fromPretrained("runs/ner");
 * const tokenizer = await loadTokenizer(dir);
 * const { rows, seconds } = await predictFile({ model, tokenizer }, { input: "texts.csv", textColumn: "review",
 *   aggregationStrategy: "first" }, "pred.jsonl");
 */
import { WhetError } from "../core/errors.js";
import { writeFileAtomic } from "../io/files.js";
import { id2label } from "../io/config.js";
import { familyOf, maxSequenceLength, taskFromConfig, type Task, type TaskModel } from "../models/auto.js";
import { ForwardRunner } from "../models/forward.js";
import { streamPredictInput, type PredictInput, type PredictInputOptions } from "../data/predict_input.js";
import {
  aggregateEntities, groupWords, scoredTokens, softmax64, wordTags, argmax, type AggregationStrategy, type EncodedText,
  type ScoredToken,
} from "../data/token_entities.js";
import { boundText, type Tokenizer } from "../tokenizers/index.js";
import { checkFinite, checkInputRows, padRows, type Row } from "./model_inputs.js";

/** A model and its tokenizer; what is left out comes from the model's config.json. */
export interface PredictorInput {
  model: TaskModel;
  tokenizer: Tokenizer;
  task?: Task;
  /** Whether the model reads token_type_ids (BERT-style). */
  tokenTypes?: boolean;
  /** id2label in id order. */
  labels?: string[];
}

type Predictor = Required<PredictorInput>;

function completePredictor(p: PredictorInput): Predictor {
  const config = p.model.config;
  return {
    model: p.model, tokenizer: p.tokenizer, task: p.task ?? taskFromConfig(config) ?? "sequence-classification",
    tokenTypes: p.tokenTypes ?? familyOf(config).tokenTypes, labels: p.labels ?? id2label(config),
  };
}

export interface PredictSpec extends PredictInputOptions {
  input: string;
  /** Inputs per forward pass; default 32. */
  batchSize?: number;
  /** Tokens per text (truncated); default the tokenizer's model_max_length, at most the model's positions. */
  maxLength?: number;
  threads?: number;
  /** Add each input's logits (per token for token classification). */
  logits?: boolean;
  /** Token classification: transformers' aggregation_strategy; default "simple". */
  aggregationStrategy?: AggregationStrategy;
  /** Token classification: labels left out of `entities`; default ["O"]. */
  ignoreLabels?: string[];
}

export interface PredictResult {
  rows: number;
  /** From the first record read to the last written. */
  seconds: number;
}

/** One input ready for the model, with what formatting its output needs. */
interface Prepared {
  row: Row;
  line: number;
  enc: EncodedText;
  sentence: string;
  /** Pre-tokenized input: where each word starts in `sentence`. */
  wordStarts?: number[];
}

/** Predict every record of `spec.input` into `output` (a path written atomically, or a stream such as stdout). */
export async function predictFile(
  model: PredictorInput, spec: PredictSpec, output: string | NodeJS.WritableStream,
): Promise<PredictResult> {
  const p = completePredictor(model);
  if (p.task !== "sequence-classification" && p.task !== "token-classification") {
    throw new WhetError(`predict needs a sequence or token classifier; this model is a ${p.task} model ` +
      `(fine-tune it first: whet train --model …)`);
  }
  const batchSize = spec.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new WhetError(`--batch-size must be a whole number of at least 1, got ${batchSize}`);
  }
  const runner = await ForwardRunner.compile(p.model, {
    tokenTypes: p.tokenTypes, outputs: ["logits"], threads: spec.threads,
  });
  const started = performance.now();
  let rows = 0;
  const encoder = new TextEncoder();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    // The next batch is read and tokenized while ONNX Runtime runs this one: two batches in memory at most.
    const source = batches(p, spec, batchSize);
    let next = source.next();
    for (;;) {
      const cur = await next;
      if (cur.done) break;
      next = source.next();
      next.catch(() => undefined); // its error surfaces when awaited, not as an unhandled rejection
      const records = await predictBatch(p, spec, runner, cur.value);
      rows += records.length;
      yield encoder.encode(records.map((r) => JSON.stringify(r) + "\n").join(""));
    }
  }
  try {
    if (typeof output === "string") await writeFileAtomic(output, chunks());
    else for await (const c of chunks()) await writeTo(output, c);
  } finally {
    await runner.release();
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

function writeTo(out: NodeJS.WritableStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(chunk, (e) => (e ? reject(e) : resolve()));
  });
}

/** The input records, encoded, `size` at a time. */
async function* batches(p: Predictor, spec: PredictSpec, size: number): AsyncGenerator<Prepared[]> {
  const maxLength = Math.min(spec.maxLength ?? p.tokenizer.modelMaxLength, maxSequenceLength(p.model.config));
  let batch: PredictInput[] = [];
  // A batch's texts are tokenized concurrently (the tokenizer works on libuv's threads).
  const encodeAll = (b: PredictInput[]) => Promise.all(b.map((rec) => prepare(p, rec, maxLength, spec.input)));
  for await (const rec of streamPredictInput(spec.input, spec)) {
    batch.push(rec);
    if (batch.length === size) {
      yield await encodeAll(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield await encodeAll(batch);
}

async function prepare(p: Predictor, rec: PredictInput, maxLength: number, path: string): Promise<Prepared> {
  const tok = p.tokenizer;
  if (rec.ids) {
    const ids = rec.ids.input_ids, n = ids.length;
    const row = {
      input_ids: ids,
      attention_mask: rec.ids.attention_mask ?? new Array<number>(n).fill(1),
      token_type_ids: rec.ids.token_type_ids ?? new Array<number>(n).fill(0),
    };
    checkInputRows([row], p.model.config, path, [rec.line]);
    return { row, line: rec.line, enc: { ids, specialTokensMask: tok.getSpecialTokensMask(ids) }, sentence: "" };
  }
  if (p.task === "token-classification" && rec.textPair !== undefined) {
    throw new WhetError(`${path}:${rec.line}: token classification takes one text per input; ` +
      `a text pair (--text-pair-column) is for sequence classification`);
  }
  let sentence = rec.text ?? "", wordStarts: number[] | undefined;
  if (rec.words) {
    // The words as training encodes them: joined by single spaces.
    wordStarts = [];
    sentence = "";
    for (const w of rec.words) {
      if (wordStarts.length > 0) sentence += " ";
      wordStarts.push(sentence.length);
      sentence += w;
    }
  }
  // A huge row costs what its first maxLength tokens cost: a checked prefix gives the same ids, and
  // offsets into a prefix are offsets into the text.
  if (!rec.words) sentence = (await boundText(tok, sentence, maxLength)).text;
  const pair = rec.textPair === undefined ? null : (await boundText(tok, rec.textPair, maxLength)).text;
  const e = await tok.encode(sentence, pair, { maxLength, truncation: true });
  const row = { input_ids: e.ids, attention_mask: e.attentionMask, token_type_ids: e.typeIds };
  return { row, line: rec.line, enc: e, sentence, wordStarts };
}

async function predictBatch(
  p: Predictor, spec: PredictSpec, runner: ForwardRunner, batch: Prepared[],
): Promise<Record<string, unknown>[]> {
  const out = await runner.run(padRows(batch.map((b) => b.row), p.tokenizer.padTokenId ?? 0, p.tokenTypes));
  checkFinite(out.logits, "logit");
  const lg = out.logits.data as Float32Array;
  const C = out.logits.shape[out.logits.shape.length - 1];
  if (p.task === "token-classification") {
    const T = out.logits.shape[1];
    return batch.map((b, i) => tokenRecord(p, spec, b, (t) => lg.subarray((i * T + t) * C, (i * T + t + 1) * C)));
  }
  return batch.map((_, i) => sequenceRecord(p, spec, Array.from(lg.subarray(i * C, (i + 1) * C))));
}

function sequenceRecord(p: Predictor, spec: PredictSpec, row: number[]): Record<string, unknown> {
  let rec: Record<string, unknown>;
  const problem = p.model.config.problem_type;
  if (problem === "regression" || row.length === 1) rec = { label: p.labels[0] ?? "LABEL_0", score: row[0] };
  else if (problem === "multi_label_classification") {
    const prob = row.map((v) => 1 / (1 + Math.exp(-v)));
    const scores = Object.fromEntries(p.labels.map((l, k) => [l, prob[k]]));
    rec = { labels: p.labels.filter((_, k) => prob[k] > 0.5), scores };
  } else {
    const prob = softmax64(row);
    const k = argmax(prob);
    rec = { label: p.labels[k], score: prob[k] };
  }
  if (spec.logits) rec.logits = row;
  return rec;
}

function tokenRecord(
  p: Predictor, spec: PredictSpec, b: Prepared, logits: (t: number) => Float32Array,
): Record<string, unknown> {
  const tok = p.tokenizer;
  const strategy = spec.aggregationStrategy ?? "simple";
  const tokens = scoredTokens(b.sentence, b.enc, (t) => softmax64(logits(t)), tok);
  const toString = (t: string[]) => tok.convertTokensToString(t);
  // Pre-tokenized input says where words are: a token continues a word when it shares its input
  // word (transformers' rule would split "1996-08-22" at the dashes, unlike the one tag per word).
  const wordOf = b.wordStarts ? inputWords(tokens, b.wordStarts) : null;
  if (wordOf) tokens.forEach((t, i) => (t.isSubword = i > 0 && wordOf[i] === wordOf[i - 1]));
  const entities = aggregateEntities(tokens, strategy, p.labels, toString, spec.ignoreLabels);
  const rec: Record<string, unknown> = { entities };
  if (b.wordStarts && wordOf) {
    rec.tags = inputWordTags(tokens, wordOf, b.wordStarts.length, strategy, p.labels);
  } else {
    const words = groupWords(tokens, (t) => t.isSubword);
    // A word is its span of the text; inputs given as ids have no text, only their pieces.
    rec.words = words.map((w) => (w[0].start === null ? toString(w.map((t) => t.token))
      : b.sentence.slice(w[0].start, w[w.length - 1].end!)));
    rec.tags = wordTags(words, strategy, p.labels).map((t) => t.tag);
  }
  if (spec.logits) rec.logits = b.row.input_ids.map((_, t) => Array.from(logits(t)));
  return rec;
}

/** The input word of each token: the word whose span holds its first character. */
function inputWords(tokens: readonly ScoredToken[], starts: readonly number[]): number[] {
  return tokens.map((t) => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= t.start!) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  });
}

/** One tag per input word; null for words truncated away. */
function inputWordTags(
  tokens: readonly ScoredToken[], wordOf: readonly number[], count: number, strategy: AggregationStrategy,
  labels: readonly string[],
): (string | null)[] {
  const byWord: ScoredToken[][] = Array.from({ length: count }, () => []);
  tokens.forEach((t, i) => byWord[wordOf[i]].push(t));
  const present = byWord.filter((w) => w.length > 0);
  const tags = wordTags(present, strategy, labels);
  let k = 0;
  return byWord.map((w) => (w.length > 0 ? tags[k++].tag : null));
}
