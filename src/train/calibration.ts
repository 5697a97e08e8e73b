// Class probabilities and calibration: how far a model's confidence is from how often it is right.
// ECE follows Guo et al. 2017, "On Calibration of Modern Neural Networks" (§2): the top-label
// confidence is binned into M equal-width intervals ((m-1)/M, m/M], and
// ECE = Σ_m |B_m| / n · |acc(B_m) − conf(B_m)|.
import { WhetError } from "../core/errors.js";

/**
 * Softmax of each row of logits [rows, k] (row-major), in float64, shifted by the row's maximum so
 * large logits do not overflow.
 *
 * @example
 * softmaxRows([0, Math.log(3)], 2); // [[0.25, 0.75]]
 */
export function softmaxRows(logits: ArrayLike<number>, k: number): number[][] {
  if (!Number.isInteger(k) || k < 1 || logits.length % k !== 0) {
    throw new WhetError(`softmax: ${logits.length} logits do not form rows of ${k} classes`);
  }
  const rows: number[][] = [];
  for (let r = 0; r < logits.length / k; r++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[r * k + j]);
    const e = Array.from({ length: k }, (_, j) => Math.exp(logits[r * k + j] - max));
    const sum = e.reduce((s, v) => s + v, 0);
    rows.push(e.map((v) => v / sum));
  }
  return rows;
}

/** The predicted class (first maximum, as numpy's argmax) and its probability, per row. */
export function topLabel(probs: readonly (readonly number[])[]): { pred: number[]; confidence: number[] } {
  const pred: number[] = [], confidence: number[] = [];
  for (const row of probs) {
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
    pred.push(best);
    confidence.push(row[best]);
  }
  return { pred, confidence };
}

/** One interval of a reliability diagram; accuracy and confidence are null for an empty bin. */
export interface ReliabilityBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  readonly accuracy: number | null;
  readonly confidence: number | null;
}

export interface Calibration {
  /** Expected calibration error over the bins (0 = perfectly calibrated). */
  readonly ece: number;
  /** Largest |accuracy − confidence| over the non-empty bins (Guo et al.'s MCE). */
  readonly mce: number;
  readonly bins: readonly ReliabilityBin[];
}

/**
 * ECE, MCE and the reliability-diagram data of top-label confidences. `correct[i]` says whether
 * prediction i was right; `numBins` equal-width bins (15 by default, as Guo et al.), bin m holding
 * confidences in (m/M, (m+1)/M] and the first bin also 0.
 *
 * @example
 * calibration([0.9, 0.6], [true, false], 10).ece; // (|1 − 0.9| + |0 − 0.6|) / 2 = 0.35
 */
export function calibration(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, numBins = 15): Calibration {
  if (confidence.length !== correct.length) {
    throw new WhetError(`calibration: ${confidence.length} confidences but ${correct.length} outcomes`);
  }
  if (confidence.length === 0) throw new WhetError("calibration: no predictions to score");
  if (!Number.isInteger(numBins)
    || numBins < 1) throw new WhetError(`calibration: the number of bins must be a positive integer, got ${numBins}`);
  const count = new Array<number>(numBins).fill(0), hits = [...count], confSum = [...count];
  for (let i = 0; i < confidence.length; i++) {
    const c = confidence[i];
    if (!(c >= 0 && c <= 1)) throw new WhetError(`calibration: confidence ${i} is ${c}, not a probability in [0, 1]`);
    // Right-closed bins: ceil(c·M) − 1, so a confidence exactly on a boundary falls in the lower bin.
    const m = Math.min(numBins - 1, Math.max(0, Math.ceil(c * numBins) - 1));
    count[m]++;
    confSum[m] += c;
    if (correct[i]) hits[m]++;
  }
  let ece = 0, mce = 0;
  const bins = count.map((n, m): ReliabilityBin => {
    const base = { lower: m / numBins, upper: (m + 1) / numBins, count: n };
    if (n === 0) return { ...base, accuracy: null, confidence: null };
    const acc = hits[m] / n, conf = confSum[m] / n;
    ece += (n / confidence.length) * Math.abs(acc - conf);
    mce = Math.max(mce, Math.abs(acc - conf));
    return { ...base, accuracy: acc, confidence: conf };
  });
  return { ece, mce, bins };
}
