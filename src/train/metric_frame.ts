// Metrics disaggregated by a sensitive feature, as fairlearn's MetricFrame reports them: overall, by
// group, the group minimum and maximum, the difference (max − min) and the ratio (min / max)
// between groups, with percentile bootstrap confidence intervals.
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { accuracy, meanAbsoluteError, meanSquaredError, precisionRecallF1 } from "./metrics.js";

/** A metric of references and predictions of one set of rows. */
export type GroupMetric = (yTrue: readonly number[], yPred: readonly number[]) => number;

export interface MetricFrameOptions {
  /** Bootstrap replicates for the confidence intervals (0 = none; default 1000). */
  readonly nBoot?: number;
  /** Seed of the bootstrap draws (default 0): the same seed gives the same intervals. */
  readonly seed?: number;
  /** Lower and upper quantiles of the interval (default [0.025, 0.975], a 95% interval). */
  readonly ciQuantiles?: readonly [number, number];
  /** Groups with fewer rows than this are listed in `small_groups` (default 5); they are still reported. */
  readonly minGroupSize?: number;
}

/** A [lower, upper] interval; NaN where the metric was undefined in too many replicates. */
export type Interval = [number, number];

export interface MetricSummary {
  readonly overall: number;
  readonly by_group: Record<string, number>;
  readonly group_min: number;
  readonly group_max: number;
  readonly difference: number;
  readonly ratio: number;
  readonly ci?: {
    readonly overall: Interval;
    readonly by_group: Record<string, Interval>;
    readonly group_min: Interval;
    readonly group_max: Interval;
    readonly difference: Interval;
    readonly ratio: Interval;
  };
}

export interface MetricFrameResult {
  readonly groups: readonly { readonly name: string; readonly count: number }[];
  readonly small_groups: readonly string[];
  readonly metrics: Record<string, MetricSummary>;
  readonly bootstrap: { readonly n_boot: number; readonly seed: number; readonly ci_quantiles: readonly [number,
    number] };
}

type Point = Omit<MetricSummary, "ci">;

/** Summary statistics of one metric over groups; NaN group values are skipped as pandas skips them. */
function summarize(overall: number, byGroup: Record<string, number>): Point {
  const vals = Object.values(byGroup).filter((v) => !Number.isNaN(v));
  const min = vals.length ? Math.min(...vals) : NaN, max = vals.length ? Math.max(...vals) : NaN;
  return { overall, by_group: byGroup, group_min: min, group_max: max, difference: max - min,
    ratio: max === 0 ? NaN : min / max };
}

/** numpy.quantile with its default linear interpolation, over the finite values. */
export function quantile(values: readonly number[], q: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = q * (v.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/**
 * Evaluate `metrics` overall and per group. Bootstrap replicates resample rows with replacement
 * inside each group (so every group keeps its size) and recompute every statistic; the interval is
 * the replicates' quantiles.
 *
 * @example
 * const f = metricFrame({ accuracy: (t, p) => t.filter((y, i) => y === p[i]).length / t.length },
 *   [1, 0, 1, 1], [1, 0, 0, 1], ["a", "a", "b", "b"], { nBoot: 0 });
 * f.metrics.accuracy.by_group; // { a: 1, b: 0.5 }; difference 0.5, ratio 0.5
 */
export function metricFrame(
  metrics: Record<string, GroupMetric>, yTrue: readonly number[], yPred: readonly number[], groups: readonly string[],
  opts: MetricFrameOptions = {},
): MetricFrameResult {
  if (yTrue.length !== yPred.length || yTrue.length !== groups.length) {
    throw new WhetError(`per-group metrics: ${yTrue.length} references, ${yPred.length} predictions and ${groups.length} group values must match`);
  }
  if (yTrue.length === 0) throw new WhetError("per-group metrics: no rows to score");
  const nBoot = opts.nBoot ?? 1000, seed = opts.seed ?? 0, q = opts.ciQuantiles ?? [0.025, 0.975];
  if (!Number.isInteger(nBoot)
    || nBoot < 0) throw new WhetError(`per-group metrics: the number of bootstrap replicates must be a whole number >= 0, got ${nBoot}`);
  if (!(q[0] >= 0 && q[0] < q[1]
    && q[1] <= 1)) throw new WhetError(`per-group metrics: confidence quantiles must satisfy 0 <= low < high <= 1, got [${q.join(", ")}]`);
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => members.set(g, [...(members.get(g) ?? []), i]));
  const names = [...members.keys()].sort();
  const evaluate = (rows: ReadonlyMap<string, readonly number[]>): Record<string, Point> => {
    const all = names.flatMap((g) => rows.get(g)!);
    const pick = (idx: readonly number[]) => [idx.map((i) => yTrue[i]), idx.map((i) => yPred[i])] as const;
    return Object.fromEntries(Object.entries(metrics).map(([m, fn]) => {
      const byGroup = Object.fromEntries(names.map((g) => [g, fn(...pick(rows.get(g)!))]));
      return [m, summarize(fn(...pick(all)), byGroup)];
    }));
  };
  const point = evaluate(members);
  const replicates: Record<string, Point>[] = [];
  for (let r = 0; r < nBoot; r++) {
    const rng = new Rng(seed, r, 0x626f6f74);
    replicates.push(evaluate(new Map(names.map((g) => {
      const idx = members.get(g)!;
      return [g, idx.map(() => idx[rng.int(idx.length)])];
    }))));
  }
  const interval = (get: (r: Record<string, Point>) => number): Interval => [quantile(replicates.map(get), q[0]),
    quantile(replicates.map(get), q[1])];
  const out: Record<string, MetricSummary> = {};
  for (const [m, p] of Object.entries(point)) {
    if (nBoot === 0) {
      out[m] = p;
      continue;
    }
    const stat = (k: "overall" | "group_min" | "group_max" | "difference" | "ratio") => interval((r) => r[m][k]);
    out[m] = {
      ...p,
      ci: {
        overall: stat("overall"), group_min: stat("group_min"), group_max: stat("group_max"),
        difference: stat("difference"), ratio: stat("ratio"),
        by_group: Object.fromEntries(names.map((g) => [g, interval((r) => r[m].by_group[g])])),
      },
    };
  }
  const minSize = opts.minGroupSize ?? 5;
  return {
    groups: names.map((name) => ({ name, count: members.get(name)!.length })),
    small_groups: names.filter((g) => members.get(g)!.length < minSize),
    metrics: out,
    bootstrap: { n_boot: nBoot, seed, ci_quantiles: [q[0], q[1]] },
  };
}

/**
 * The per-group metrics of a single-label classifier with `numLabels` classes: accuracy, and
 * precision / recall / F1 of class 1 for two classes (NaN where a group has no predicted or no
 * actual class 1; macro over the present classes otherwise);
 * two classes add fairlearn's selection_rate (share predicted 1), false_positive_rate and
 * false_negative_rate. Regression gets mse and mae.
 *
 * @example
 * // accuracy, selection_rate… per group
 * const frame = metricFrame(standardGroupMetrics("class", 2), yTrue, yPred, groups);
 */
export function standardGroupMetrics(kind: "class" | "regression", numLabels = 2): Record<string, GroupMetric> {
  if (kind === "regression") return { mse: (t, p) => meanSquaredError(t, p), mae: (t, p) => meanAbsoluteError(t, p) };
  const average = numLabels === 2 ? "binary" : "macro";
  // Two classes: a group with no predicted (or no actual) class 1 has no precision (or recall): NaN,
  // as sklearn's zero_division=np.nan gives, so group_min / ratio skip it instead of reading 0.
  const prf = (t: readonly number[], p: readonly number[]) => {
    const s = precisionRecallF1(t, p, { numLabels, average });
    if (numLabels !== 2) return s;
    const noPred = !p.includes(1), noTrue = !t.includes(1);
    return { precision: noPred ? NaN : s.precision, recall: noTrue ? NaN : s.recall, f1: noPred
      || noTrue ? NaN : s.f1 };
  };
  const out: Record<string, GroupMetric> = {
    accuracy: (t, p) => accuracy(t, p),
    precision: (t, p) => prf(t, p).precision,
    recall: (t, p) => prf(t, p).recall,
    f1: (t, p) => prf(t, p).f1,
  };
  if (numLabels !== 2) return out;
  const rate = (t: readonly number[], p: readonly number[], ref: number) => {
    const rows = t.flatMap((y, i) => (y === ref ? [p[i]] : []));
    return rows.length ? rows.filter((y) => y !== ref).length / rows.length : NaN;
  };
  return {
    ...out,
    selection_rate: (_t, p) => p.filter((y) => y === 1).length / p.length,
    false_positive_rate: (t, p) => rate(t, p, 0),
    false_negative_rate: (t, p) => rate(t, p, 1),
  };
}
