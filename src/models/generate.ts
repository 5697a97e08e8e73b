// Greedy and beam-search generation for an encoder-decoder, as transformers 4.30's generate()
// (greedy_search, beam_search) with the logits processors a translation model's config turns on:
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/generation/utils.py
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { sampleToken, warpScores } from "./sampling.js";
import { bannedTokens, forcedToken, rowCandidates } from "./beam_candidates.js";
import { BeamHypotheses, processRow, type RowBeams } from "./beam_search.js";
import { effectiveMaxLength, type GenerationConfig } from "./generation_config.js";
import type { MarianRunner } from "./marian_runner.js";

/** Beam search's scorer state after one step, per input row (for diagnostics and tests). */
export interface BeamStepInfo {
  done: boolean[];
  finishedHypotheses: number[];
  /** The lowest kept hypothesis score, null while a row has none. */
  worstScore: (number | null)[];
}

export interface GenerateOutput {
  /** As transformers returns them: decoder start first, finished rows right-padded with pad. */
  sequences: number[][];
  /** Per row, the generated ids after the decoder start, up to and including </s>, no padding. */
  tokens: number[][];
  /** Beam search: the best hypothesis' normalised score per row (sequences_scores). */
  sequencesScores?: number[];
  /** Decoder steps run. */
  stepsRun: number;
}

/**
 * The logits processors, in transformers' order, on one row's scores (modified in place):
 * NoBadWords, MinLength, ForcedEOS. `seq` is the row's ids so far, decoder start included.
 */
export function processScores(
  scores: Float64Array,
  seq: readonly number[],
  cfg: GenerationConfig,
  maxLength: number,
): void {
  for (const t of bannedTokens(seq, cfg)) scores[t] = -Infinity;
  const forced = forcedToken(seq, cfg, maxLength);
  if (forced !== null) {
    scores.fill(-Infinity);
    scores[forced] = 0;
  }
}

/** The first maximum of a row among the tokens not banned (argmax of the processed logits). */
function argmaxAllowed(row: Float32Array, banned: ReadonlySet<number>): number {
  let at = -1;
  for (let i = 0; i < row.length; i++) if ((at < 0 || row[i] > row[at]) && !banned.has(i)) at = i;
  return at < 0 ? 0 : at;
}

/** Ids after the decoder start up to and including the first </s>. */
function generated(seq: readonly number[], eos: number): number[] {
  const rest = seq.slice(1);
  const end = rest.indexOf(eos);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

function checkLength(runner: MarianRunner, maxLength: number): void {
  const limit = runner.model.config.max_position_embeddings;
  if (maxLength > limit)
    throw new WhetError(
      `generate: max_length ${maxLength} needs more decoder positions than the model has (max_position_embeddings ${limit}); lower max_new_tokens`,
    );
}

/**
 * Greedy search (the highest processed logit at every step) or, with do_sample, sampling from the
 * warped distribution; finished rows receive pad.
 */
export async function greedySearch(
  runner: MarianRunner,
  inputIds: number[][],
  attentionMask: number[][],
  cfg: GenerationConfig,
): Promise<GenerateOutput> {
  const maxLength = effectiveMaxLength(cfg);
  checkLength(runner, maxLength);
  const state = await runner.begin(inputIds, attentionMask, 1);
  const V = runner.model.config.vocab_size;
  const seqs = inputIds.map(() => [cfg.decoder_start_token_id]);
  const open = seqs.map(() => true);
  const scores = new Float64Array(V); // reused: fresh pages cost more than the arithmetic
  const rng = new Rng(cfg.seed, 0x73616d70);
  let steps = 0;
  while (seqs[0].length < maxLength && open.some((o) => o)) {
    const logits = await state.step(seqs.map((s) => s[s.length - 1]));
    steps++;
    seqs.forEach((seq, r) => {
      const row = logits.subarray(r * V, (r + 1) * V);
      let next = cfg.pad_token_id;
      if (open[r] && cfg.do_sample) {
        scores.set(row);
        processScores(scores, seq, cfg, maxLength);
        warpScores(scores, cfg);
        next = sampleToken(scores, rng);
      } else if (open[r])
        next = forcedToken(seq, cfg, maxLength) ?? argmaxAllowed(row, new Set(bannedTokens(seq, cfg)));
      seq.push(next);
      if (next === cfg.eos_token_id) open[r] = false;
    });
  }
  return { sequences: seqs, tokens: seqs.map((s) => generated(s, cfg.eos_token_id)), stepsRun: steps };
}

/** One row's step of beam search: processed log-probs plus running scores, ranked, then the scorer. */
interface BeamContext {
  cfg: GenerationConfig;
  maxLength: number;
  vocab: number;
}

function beamRow(
  b: number,
  logits: Float32Array,
  lse: Float32Array,
  seqs: number[][],
  beamScores: number[],
  hyps: BeamHypotheses,
  bc: BeamContext,
): RowBeams {
  const { cfg, maxLength, vocab } = bc;
  const cands = rowCandidates(logits, lse, b, seqs, beamScores, cfg, maxLength, vocab);
  const curLen = seqs[b * cfg.num_beams].length + 1; // the length including the token chosen now
  const next = processRow(hyps, b, cands, vocab, cfg.eos_token_id, curLen, (beam) => seqs[beam]);
  next.done = hyps.isDone(cands[0].score, curLen);
  return next;
}

/** Beam search with transformers' scorer (see beam_search.ts); one best sequence per input row. */
export async function beamSearch(
  runner: MarianRunner,
  inputIds: number[][],
  attentionMask: number[][],
  cfg: GenerationConfig,
  observe?: (step: BeamStepInfo) => void,
): Promise<GenerateOutput> {
  const maxLength = effectiveMaxLength(cfg);
  checkLength(runner, maxLength);
  const K = cfg.num_beams,
    B = inputIds.length,
    V = runner.model.config.vocab_size;
  const state = await runner.begin(inputIds, attentionMask, K);
  let seqs = Array.from({ length: B * K }, () => [cfg.decoder_start_token_id]);
  let beamScores: number[] = Array.from({ length: B * K }, (_, i) => (i % K === 0 ? 0 : -1e9));
  const hyps = Array.from(
    { length: B },
    () => new BeamHypotheses(K, cfg.length_penalty, cfg.early_stopping, maxLength),
  );
  const done = new Array<boolean>(B).fill(false);
  const bc: BeamContext = { cfg, maxLength, vocab: V };
  let steps = 0;
  for (;;) {
    const logits = await state.step(seqs.map((s) => s[s.length - 1]));
    steps++;
    const next: RowBeams = { scores: [], tokens: [], sources: [] };
    for (let b = 0; b < B; b++) {
      // A done row's beams get pad with score 0 (they are never read again).
      const row = done[b]
        ? {
            scores: new Array<number>(K).fill(0),
            tokens: new Array<number>(K).fill(cfg.pad_token_id),
            sources: Array.from({ length: K }, (_, j) => b * K + j),
          }
        : beamRow(b, logits, state.logSumExp, seqs, beamScores, hyps[b], bc);
      done[b] = done[b] || row.done === true;
      next.scores.push(...row.scores);
      next.tokens.push(...row.tokens);
      next.sources.push(...row.sources);
    }
    seqs = next.sources.map((src, r) => [...seqs[src], next.tokens[r]]);
    beamScores = next.scores;
    state.reorder(next.sources);
    observe?.({
      done: [...done],
      finishedHypotheses: hyps.map((h) => h.size),
      worstScore: hyps.map((h) => (h.size ? h.worstScore : null)),
    });
    if (done.every((d) => d) || seqs[0].length >= maxLength) break;
  }
  return finalize(hyps, done, seqs, beamScores, cfg, maxLength, steps);
}

/** BeamSearchScorer.finalize: open beams of unfinished rows become hypotheses; best per row, </s>, padding. */
function finalize(
  hyps: BeamHypotheses[],
  done: boolean[],
  seqs: number[][],
  beamScores: number[],
  cfg: GenerationConfig,
  maxLength: number,
  steps: number,
): GenerateOutput {
  const K = cfg.num_beams;
  hyps.forEach((h, b) => {
    if (!done[b]) for (let j = 0; j < K; j++) h.add(seqs[b * K + j], beamScores[b * K + j]);
  });
  const best = hyps.map((h) => h.best());
  const width = Math.min(Math.max(...best.map((h) => h.tokens.length)) + 1, maxLength);
  const sequences = best.map(({ tokens }) => {
    const row = [...tokens];
    if (row.length < width) row.push(cfg.eos_token_id);
    while (row.length < width) row.push(cfg.pad_token_id);
    return row;
  });
  const tokens = best.map(({ tokens }) => [...tokens.slice(1), ...(tokens.length < width ? [cfg.eos_token_id] : [])]);
  return { sequences, tokens, sequencesScores: best.map((h) => h.score), stepsRun: steps };
}

/**
 * Generate from a right-padded batch of source ids with a resolved generation config:
 * greedy when num_beams is 1, beam search otherwise.
 *
 * @example
 * const runner = await MarianRunner.compile(model);
 * const out = await generate(runner, ids, mask, withOptions(generationConfig, { numBeams: 4, maxNewTokens: 64 }));
 * out.tokens[0]; // [..., 0]: the translation's ids, </s> last
 */
export function generate(
  runner: MarianRunner,
  inputIds: number[][],
  attentionMask: number[][],
  cfg: GenerationConfig,
): Promise<GenerateOutput> {
  return cfg.num_beams === 1
    ? greedySearch(runner, inputIds, attentionMask, cfg)
    : beamSearch(runner, inputIds, attentionMask, cfg);
}
