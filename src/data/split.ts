/**
 * Stratified train/validation split. Each class keeps its share on both sides (largest-remainder
 * rounding) and every class with two or more rows appears on both sides whenever the validation
 * size allows it, so per-class metrics never divide by zero on a class the split happened to
 * drop. Deterministic for a seed, whatever the platform.
 *
 * @example
 * const { train, validation } = stratifiedSplit(rows, { validationSize: 0.1, seed: 42 });
 */
import { UsageError } from "../core/errors.js";
import { optionName } from "../core/option_names.js";
import { Rng } from "../core/rng.js";
import { compareCodePoints } from "./labels.js";
import type { Label } from "./read.js";

export interface SplitOptions<T> {
  /** A fraction in (0, 1) of the rows, or a count of rows (an integer ≥ 1). */
  validationSize: number;
  seed: number;
  /**
   * The stratum of a row. Default: its label — the row's rarest label for multi-label rows,
   * one of 10 quantile bins for regression targets. false: a plain random split.
   */
  stratify?: ((row: T, index: number) => string) | false;
}

export interface Split<T> {
  train: T[];
  validation: T[];
  /** Positions in the input, ascending (rows keep their file order on each side). */
  trainIndices: number[];
  validationIndices: number[];
  /** Classes that could not be represented on both sides, and why. */
  warnings: string[];
}

/** Keeps this split's random stream apart from other users of the same seed. */
const SPLIT_STREAM = 0x5b117;
const REGRESSION_BINS = 10;

export function stratifiedSplit<T extends { label?: Label }>(rows: readonly T[], options: SplitOptions<T>): Split<T> {
  const n = rows.length;
  const { validationSize: size, seed } = options;
  const v = size > 0 && size < 1 ? Math.round(size * n) : size;
  if (!Number.isInteger(v) || v < 1 || v >= n) {
    throw new UsageError(`Cannot split ${n} rows with ${optionName("validation_split", "validationSize")} ${size}: ` +
      `give a fraction in (0, 1) or a count in 1..${n - 1} (a fraction must leave at least one row on each side)`);
  }
  const keyOf = options.stratify === false ? () => "" : options.stratify ?? defaultStratum(rows);
  const groups = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const k = keyOf(row, i);
    const g = groups.get(k);
    if (g) g.push(i); else groups.set(k, [i]);
  });
  const keys = [...groups.keys()].sort(compareCodePoints);
  const sizes = keys.map((k) => groups.get(k)!.length);
  const warnings: string[] = [];
  const take = allocate(sizes, v, n);
  keys.forEach((k, g) => {
    if (options.stratify === false) return;
    if (sizes[g] === 1) warnings.push(`class ${JSON.stringify(k)} has a single row: it stays in train only`);
    else if (take[g] === 0 || take[g] === sizes[g]) {
      warnings.push(`class ${JSON.stringify(k)} (${sizes[g]} rows) is only in ${take[g] === 0 ? "train" : "validation"}: ` +
        `the validation size ${v} is too small (or too large) to hold every class on both sides`);
    }
  });

  const rng = new Rng(seed, SPLIT_STREAM);
  const inValidation = new Uint8Array(n);
  keys.forEach((k, g) => {
    const members = groups.get(k)!;
    const perm = rng.permutation(members.length);
    for (let j = 0; j < take[g]; j++) inValidation[members[perm[j]]] = 1;
  });
  const trainIndices: number[] = [];
  const validationIndices: number[] = [];
  for (let i = 0; i < n; i++) (inValidation[i] ? validationIndices : trainIndices).push(i);
  return {
    train: trainIndices.map((i) => rows[i]),
    validation: validationIndices.map((i) => rows[i]),
    trainIndices, validationIndices, warnings,
  };
}

/**
 * How many rows of each group go to validation: proportional shares rounded by largest
 * remainder, first giving every group of ≥ 2 rows at least one row on each side.
 */
export function allocate(sizes: readonly number[], v: number, n: number): number[] {
  const quota = sizes.map((s) => (s * v) / n);
  const take = sizes.map((s, g) => (s >= 2 ? Math.min(Math.max(Math.floor(quota[g]), 1), s - 1) : 0));
  let total = take.reduce((a, b) => a + b, 0);
  // Grow: first within "both sides" bounds, then (only if unavoidable) emptying a group's train side.
  for (const relaxed of [false, true]) {
    while (total < v) {
      let best = -1;
      for (let g = 0; g < sizes.length; g++) {
        const cap = relaxed || sizes[g] < 2 ? sizes[g] : sizes[g] - 1;
        if (take[g] < cap && (best < 0 || quota[g] - take[g] > quota[best] - take[best])) best = g;
      }
      if (best < 0) break;
      take[best]++;
      total++;
    }
  }
  // Shrink: first keeping one validation row per group, then (if unavoidable) dropping it.
  for (const relaxed of [false, true]) {
    while (total > v) {
      let best = -1;
      for (let g = 0; g < sizes.length; g++) {
        const floor = relaxed ? 0 : 1;
        if (take[g] > floor && (best < 0 || take[g] - quota[g] > take[best] - quota[best])) best = g;
      }
      if (best < 0) break;
      take[best]--;
      total--;
    }
  }
  return take;
}

/** The default stratum of a row, from its label (see SplitOptions.stratify). */
function defaultStratum<T extends { label?: Label }>(rows: readonly T[]): (row: T, index: number) => string {
  const labels = rows.map((r) => r.label);
  const numeric = labels.every((l) => typeof l === "number" || (typeof l === "string" && l.trim() !== "" && Number.isFinite(Number(l))));
  const fractional = numeric && labels.some((l) => !Number.isInteger(Number(l)));
  if (fractional) {
    // Regression: bins by rank, so skewed targets still spread over both sides.
    const order = labels.map((l, i) => [Number(l), i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const bin: string[] = new Array(rows.length);
    order.forEach(([, i], rank) => { bin[i] = `bin ${Math.floor((rank * REGRESSION_BINS) / rows.length)}`; });
    return (_row, index) => bin[index];
  }
  const counts = new Map<string, number>();
  for (const l of labels) for (const x of Array.isArray(l) ? l : [l]) counts.set(String(x), (counts.get(String(x)) ?? 0) + 1);
  return (row) => {
    const l = row.label;
    if (l === undefined) return "(no label)";
    if (!Array.isArray(l)) return String(l);
    if (l.length === 0) return "(no labels)";
    // Multi-label: the rarest label decides, as it is the one a random split loses first.
    return l.map(String).sort((a, b) => counts.get(a)! - counts.get(b)! || compareCodePoints(a, b))[0];
  };
}
