import type { RegressionTree } from "./regression_forest.js";

type Box = [number, number][];

const volume = (box: Box): number => box.reduce((p, [lo, hi]) => p * (hi - lo), 1);

function narrowed(box: Box, feature: number, side: 0 | 1, threshold: number): Box {
  const out = box.map((b): [number, number] => [b[0], b[1]]);
  out[feature][side] = threshold;
  return out;
}

/**
 * The functional ANOVA of one regression tree over a box-shaped search space (Hutter et al. 2014,
 * as Optuna's _FanovaTree computes it): the tree is a piecewise-constant function; its variance
 * over the uniform measure on the box, and the variance of its marginal over a subset of features
 * (the other features integrated out), give the share of variance those features explain.
 */
export class FanovaTree {
  /** per node: the volume-weighted mean of its leaves, and their total volume */
  private readonly stats: [number, number][];
  private readonly midpoints: number[][];
  private readonly sizes: number[][];
  /** per node: the features any split in its subtree uses */
  private readonly subtreeFeatures: Set<number>[];
  readonly variance: number;

  constructor(private readonly tree: RegressionTree, private readonly space: Box) {
    this.stats = this.statistics();
    [this.midpoints, this.sizes] = this.splitCells();
    this.subtreeFeatures = this.featuresBelow();
    const leaves = tree.feature.flatMap((f, i) => (f < 0 ? [this.stats[i]] : []));
    this.variance = weightedVariance(leaves.map((s) => s[0]), leaves.map((s) => s[1]));
  }

  /** Variance of the tree's marginal over `features`, each taken at the cells its split points cut. */
  marginalVariance(features: number[]): number {
    const values: number[] = [], weights: number[] = [];
    const point = new Array<number>(this.space.length).fill(Number.NaN);
    const visit = (k: number, size: number): void => {
      if (k === features.length) {
        const [value, weight] = this.marginalAt(point);
        values.push(value);
        weights.push(weight * size);
        return;
      }
      const f = features[k];
      this.midpoints[f].forEach((m, i) => {
        point[f] = m;
        visit(k + 1, size * this.sizes[f][i]);
      });
    };
    visit(0, 1);
    return Math.max(0, weightedVariance(values, weights));
  }

  /** The tree's mean with the non-NaN features of `point` fixed and the NaN ones integrated out. */
  private marginalAt(point: number[]): [number, number] {
    const t = this.tree;
    const active = point.map((v) => !Number.isNaN(v));
    const start = this.space.map((b, f): [number, number] => (active[f] ? [b[0], b[1]] : [0, 1]));
    const stack: [number, Box][] = [[0, start]];
    const values: number[] = [], weights: number[] = [];
    while (stack.length > 0) {
      const [node, box] = stack.pop()!;
      const f = t.feature[node];
      if (f >= 0 && active[f]) {
        const goLeft = point[f] <= t.threshold[node];
        stack.push(goLeft ? [t.left[node], narrowed(box, f, 1, t.threshold[node])]
          : [t.right[node], narrowed(box, f, 0, t.threshold[node])]);
        continue;
      }
      if (f >= 0 && [...this.subtreeFeatures[node]].some((g) => active[g])) {
        stack.push([t.left[node], box], [t.right[node], box]);
        continue;
      }
      values.push(this.stats[node][0]);
      weights.push(this.stats[node][1] / volume(box));
    }
    return [weightedMean(values, weights), weights.reduce((a, b) => a + b, 0)];
  }

  private statistics(): [number, number][] {
    const t = this.tree, n = t.feature.length;
    const boxes: Box[] = new Array(n);
    boxes[0] = this.space;
    const stats: [number, number][] = new Array(n);
    for (let i = 0; i < n; i++) {
      if (t.feature[i] < 0) {
        stats[i] = [t.value[i], volume(boxes[i])];
        continue;
      }
      boxes[t.left[i]] = narrowed(boxes[i], t.feature[i], 1, t.threshold[i]);
      boxes[t.right[i]] = narrowed(boxes[i], t.feature[i], 0, t.threshold[i]);
    }
    for (let i = n - 1; i >= 0; i--) {
      if (t.feature[i] < 0) continue;
      const [l, r] = [stats[t.left[i]], stats[t.right[i]]];
      stats[i] = [weightedMean([l[0], r[0]], [l[1], r[1]]), l[1] + r[1]];
    }
    return stats;
  }

  /** Per feature: the cells between the range ends and the sorted distinct thresholds (midpoints, widths). */
  private splitCells(): [number[][], number[][]] {
    const cuts = this.space.map(() => new Set<number>());
    this.tree.feature.forEach((f, i) => { if (f >= 0) cuts[f].add(this.tree.threshold[i]); });
    const mids: number[][] = [], sizes: number[][] = [];
    this.space.forEach(([lo, hi], f) => {
      const edges = [lo, ...[...cuts[f]].sort((a, b) => a - b), hi];
      mids.push(edges.slice(1).map((e, i) => 0.5 * (e + edges[i])));
      sizes.push(edges.slice(1).map((e, i) => e - edges[i]));
    });
    return [mids, sizes];
  }

  private featuresBelow(): Set<number>[] {
    const t = this.tree, n = t.feature.length;
    const out: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
    for (let i = n - 1; i >= 0; i--) {
      if (t.feature[i] < 0) continue;
      out[i] = new Set([t.feature[i], ...out[t.left[i]], ...out[t.right[i]]]);
    }
    return out;
  }
}

function weightedMean(values: number[], weights: number[]): number {
  let s = 0, w = 0;
  values.forEach((v, i) => { s += v * weights[i]; w += weights[i]; });
  return s / w;
}

function weightedVariance(values: number[], weights: number[]): number {
  const m = weightedMean(values, weights);
  return weightedMean(values.map((v) => (v - m) ** 2), weights);
}
