// Beam search bookkeeping as transformers 4.30's BeamSearchScorer and BeamHypotheses:
// https://github.com/huggingface/transformers/blob/v4.30.0/src/transformers/generation/beam_search.py
// Scores are float32 where torch keeps float32 tensors (running sums, candidates) and float64
// where Python does arithmetic on .item() values (normalised hypothesis scores).
import type { EarlyStopping } from "./generation_config.js";

const f32 = Math.fround;

/** A row's kept finished hypotheses: the num_beams best, scored by sum of log-probs ÷ length^penalty. */
export class BeamHypotheses {
  readonly beams: { score: number; tokens: number[] }[] = [];
  worstScore = 1e9;

  constructor(
    readonly numBeams: number,
    readonly lengthPenalty: number,
    readonly earlyStopping: EarlyStopping,
    readonly maxLength: number,
  ) {}

  get size(): number {
    return this.beams.length;
  }

  /** Offer a hypothesis (its tokens exclude the final </s>; the length counts the decoder start). */
  add(tokens: number[], sumLogprobs: number): void {
    const score = sumLogprobs / Math.pow(tokens.length, this.lengthPenalty);
    if (this.beams.length < this.numBeams || score > this.worstScore) {
      this.beams.push({ score, tokens });
      if (this.beams.length > this.numBeams) {
        // Python sorts (score, index) pairs: ties go to the earlier index.
        const order = this.beams.map((b, i) => [b.score, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.beams.splice(order[0][1], 1);
        this.worstScore = order[1][0];
      } else this.worstScore = Math.min(score, this.worstScore);
    }
  }

  /** Whether no open beam can still beat the kept hypotheses (`bestSum`: this step's best running score). */
  isDone(bestSum: number, curLen: number): boolean {
    if (this.beams.length < this.numBeams) return false;
    if (this.earlyStopping === true) return true;
    const denominatorLength = this.earlyStopping === "never" && this.lengthPenalty > 0 ? this.maxLength : curLen;
    return this.worstScore >= bestSum / Math.pow(denominatorLength, this.lengthPenalty);
  }

  /** The best hypothesis (on equal scores, the one added last, as Python's sorted(...).pop()). */
  best(): { score: number; tokens: number[] } {
    let at = 0;
    for (let i = 1; i < this.beams.length; i++) if (this.beams[i].score >= this.beams[at].score) at = i;
    return this.beams[at];
  }
}

/** The next beams of one row: running scores, tokens, and the flat beam each extends. */
export interface RowBeams {
  scores: number[];
  tokens: number[];
  sources: number[];
  /** Whether the row is done after this step (set by the caller from BeamHypotheses.isDone). */
  done?: boolean;
}

/**
 * BeamSearchScorer.process for one row: walk the ranked candidates, turn </s> among the first
 * num_beams into finished hypotheses, fill the beams with the others, then decide whether the
 * row is done. `seqs(flat)` gives a beam's tokens so far (decoder start included).
 */
export function processRow(
  hyps: BeamHypotheses,
  row: number,
  candidates: { score: number; flat: number }[],
  vocab: number,
  eos: number,
  curLen: number,
  seqs: (flatBeam: number) => number[],
): RowBeams {
  const k = hyps.numBeams;
  const next: RowBeams = { scores: [], tokens: [], sources: [] };
  for (let rank = 0; rank < candidates.length && next.tokens.length < k; rank++) {
    const { score, flat } = candidates[rank];
    const beam = row * k + Math.floor(flat / vocab);
    const token = flat % vocab;
    if (token === eos) {
      if (rank < k) hyps.add([...seqs(beam)], score);
    } else {
      next.scores.push(f32(score));
      next.tokens.push(token);
      next.sources.push(beam);
    }
  }
  if (next.tokens.length < k)
    throw new Error(`beam search: only ${next.tokens.length} of ${k} beams could be filled (too few candidates)`);
  return next;
}
