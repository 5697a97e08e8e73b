// The candidates of one beam-search step without materialising processed scores for the whole
// vocabulary: log_softmax is monotone in the logits, and the processors only ban tokens (set them
// to -inf) or force one, so the best candidates of a beam are its best allowed logits. Each is
// then scored exactly as transformers does it: float32 log-prob plus the float32 running score.
import type { GenerationConfig } from "./generation_config.js";

export interface Candidate {
  score: number;
  /** beam · vocab + token, the index into the flattened [num_beams × vocab] scores. */
  flat: number;
}

/** Tokens the processors set to -inf for a row: NoBadWords (its [eos] entry dropped) and MinLength. */
export function bannedTokens(seq: readonly number[], cfg: GenerationConfig): number[] {
  const out: number[] = [];
  for (const banned of cfg.bad_words_ids ?? []) {
    if (banned.length === 1 && banned[0] === cfg.eos_token_id) continue;
    const prefix = banned.slice(0, -1);
    const matches = prefix.length <= seq.length && prefix.every((t, i) => seq[seq.length - prefix.length + i] === t);
    if (matches) out.push(banned[banned.length - 1]);
  }
  if (seq.length < cfg.min_length) out.push(cfg.eos_token_id);
  return out;
}

/** ForcedEOSLogitsProcessor: the token that alone keeps a finite score (0) at the last step, or null. */
export function forcedToken(seq: readonly number[], cfg: GenerationConfig, maxLength: number): number | null {
  return cfg.forced_eos_token_id !== null && seq.length === maxLength - 1 ? cfg.forced_eos_token_id : null;
}

/** The `n` largest allowed entries of a row, as [value, index] (ties: lower index first). */
function topAllowed(row: Float32Array, n: number, banned: ReadonlySet<number>): [number, number][] {
  const top: [number, number][] = [];
  let floor = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (top.length === n && !(v > floor)) continue;
    if (banned.has(i)) continue;
    let at = top.length;
    while (at > 0 && v > top[at - 1][0]) at--;
    top.splice(at, 0, [v, i]);
    if (top.length > n) top.pop();
    floor = top.length === n ? top[n - 1][0] : -Infinity;
  }
  return top;
}

/**
 * The best 2·num_beams candidates of input row `b`, ranked as torch.topk over the flattened
 * processed scores (ties: lower flat index). -inf candidates fill up when fewer are finite (the
 * forced-EOS step), as topk returns them too.
 */
export function rowCandidates(
  logits: Float32Array,
  logSumExp: Float32Array,
  b: number,
  seqs: readonly (readonly number[])[],
  beamScores: readonly number[],
  cfg: GenerationConfig,
  maxLength: number,
  vocab: number,
): Candidate[] {
  const K = cfg.num_beams;
  const want = 2 * K;
  const out: Candidate[] = [];
  for (let j = 0; j < K; j++) {
    const beam = b * K + j;
    const seq = seqs[beam];
    const forced = forcedToken(seq, cfg, maxLength);
    if (forced !== null) {
      out.push({ score: Math.fround(0 + beamScores[beam]), flat: j * vocab + forced });
      continue;
    }
    const row = logits.subarray(beam * vocab, (beam + 1) * vocab);
    const lse = logSumExp[beam]; // log_softmax's normaliser, pad left out
    const banned = new Set([cfg.pad_token_id, ...bannedTokens(seq, cfg)]);
    // A few more than needed: float32 rounding can make distinct logits tie.
    for (const [v, i] of topAllowed(row, want + 2, banned)) {
      out.push({ score: Math.fround(Math.fround(v - lse) + beamScores[beam]), flat: j * vocab + i });
    }
  }
  out.sort((x, y) => y.score - x.score || x.flat - y.flat);
  const taken = new Set(out.map((c) => c.flat));
  for (let flat = 0; out.length < want && flat < K * vocab; flat++) {
    if (!taken.has(flat)) out.push({ score: -Infinity, flat });
  }
  return out.slice(0, want);
}
