import { Rng } from "../core/rng.js";

/**
 * A fitted regression tree in scikit-learn's array layout: node i splits on `feature[i]` at
 * `threshold[i]` (x <= threshold goes left), or is a leaf when `feature[i]` is −1. Children always
 * have larger indices than their parent.
 */
export interface RegressionTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** mean of the (bootstrap-weighted) targets that reached the node */
  value: number[];
}

export interface ForestOptions {
  nTrees: number;
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  seed: number;
}

/**
 * A random forest of regression trees as scikit-learn's RandomForestRegressor with its defaults
 * (the forest Optuna's fANOVA fits): every tree on a bootstrap sample, all features considered at
 * each split, in a random order, squared-error splits at midpoints between distinct values.
 * Rows of `x` are samples.
 */
export function fitForest(x: number[][], y: number[], opts: ForestOptions): RegressionTree[] {
  const trees: RegressionTree[] = [];
  for (let t = 0; t < opts.nTrees; t++) {
    const rng = new Rng(opts.seed, t, 0x666f72);
    const weight = new Array<number>(y.length).fill(0);
    for (let i = 0; i < y.length; i++) weight[rng.int(y.length)] += 1;
    const rows = weight.flatMap((w, i) => (w > 0 ? [i] : []));
    trees.push(new TreeBuilder(x, y, weight, opts, rng).build(rows));
  }
  return trees;
}

interface Split {
  feature: number;
  threshold: number;
  leftRows: number[];
  rightRows: number[];
}

class TreeBuilder {
  private readonly tree: RegressionTree = { feature: [], threshold: [], left: [], right: [], value: [] };

  constructor(private readonly x: number[][], private readonly y: number[], private readonly w: number[],
    private readonly opts: ForestOptions, private readonly rng: Rng) {}

  build(rows: number[]): RegressionTree {
    this.grow(rows, 0);
    return this.tree;
  }

  /** Depth first, parent before children, so every child's index is larger than its parent's. */
  private grow(rows: number[], depth: number): number {
    const t = this.tree;
    const node = t.feature.length;
    let sw = 0, sy = 0;
    for (const r of rows) [sw, sy] = [sw + this.w[r], sy + this.w[r] * this.y[r]];
    const mean = sy / sw;
    t.feature.push(-1);
    t.threshold.push(-2);
    t.left.push(-1);
    t.right.push(-1);
    t.value.push(mean);
    const impure = rows.some((r) => Math.abs(this.y[r] - mean) > 1e-12 * Math.max(1, Math.abs(mean)));
    if (depth >= this.opts.maxDepth || rows.length < this.opts.minSamplesSplit || !impure) return node;
    const split = this.bestSplit(rows);
    if (split === null) return node;
    t.feature[node] = split.feature;
    t.threshold[node] = split.threshold;
    t.left[node] = this.grow(split.leftRows, depth + 1);
    t.right[node] = this.grow(split.rightRows, depth + 1);
    return node;
  }

  /** The split with the largest decrease of the weighted squared error, features tried in random order. */
  private bestSplit(rows: number[]): Split | null {
    const nFeatures = this.x[0].length;
    const order = Array.from({ length: nFeatures }, (_, i) => i);
    for (let i = nFeatures - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let best: { feature: number; pos: number; sorted: number[]; score: number } | null = null;
    for (const f of order) {
      const sorted = [...rows].sort((a, b) => this.x[a][f] - this.x[b][f]);
      const cut = this.bestCut(sorted, f);
      if (cut !== null && (best === null || cut.score > best.score + 1e-12 * Math.abs(best.score))) {
        best = { feature: f, pos: cut.pos, sorted, score: cut.score };
      }
    }
    if (best === null) return null;
    const { feature: f, pos, sorted } = best;
    const lo = this.x[sorted[pos - 1]][f], hi = this.x[sorted[pos]][f];
    let threshold = lo / 2 + hi / 2;
    if (threshold === hi || !Number.isFinite(threshold)) threshold = lo;
    return { feature: f, threshold, leftRows: sorted.slice(0, pos), rightRows: sorted.slice(pos) };
  }

  /** Over the cuts between distinct values (each side keeping minSamplesLeaf rows): the best Σ²/w proxy. */
  private bestCut(sorted: number[], f: number): { pos: number; score: number } | null {
    let totalW = 0, totalS = 0;
    for (const r of sorted) [totalW, totalS] = [totalW + this.w[r], totalS + this.w[r] * this.y[r]];
    let lw = 0, ls = 0;
    let best: { pos: number; score: number } | null = null;
    const minLeaf = this.opts.minSamplesLeaf;
    for (let p = 1; p < sorted.length; p++) {
      const r = sorted[p - 1];
      lw += this.w[r];
      ls += this.w[r] * this.y[r];
      if (p < minLeaf || sorted.length - p < minLeaf) continue;
      if (this.x[sorted[p]][f] <= this.x[r][f]) continue;
      const rw = totalW - lw, rs = totalS - ls;
      const score = (ls * ls) / lw + (rs * rs) / rw;
      if (best === null || score > best.score) best = { pos: p, score };
    }
    return best;
  }
}
