import { isSingle, sameDistribution, type Distribution } from "./distributions.js";
import { FanovaTree } from "./fanova_tree.js";
import type { FrozenTrial } from "./frozen_trial.js";
import { fitForest } from "./regression_forest.js";

export interface ImportanceOptions {
  /** which objective of a multi-objective study (default 0) */
  objective?: number;
  /** forest size and depth: Optuna's FanovaImportanceEvaluator defaults, 64 and 64 */
  nTrees?: number;
  maxDepth?: number;
  /** the forest's seed (default 0, so the summary is reproducible; Optuna's default is unseeded) */
  seed?: number;
}

/** What importances are called in the summary. */
export const IMPORTANCE_METHOD = "fANOVA (random forest of 64 trees, as Optuna's default evaluator)";

/**
 * Parameter importances by fANOVA, as Optuna's default FanovaImportanceEvaluator computes them:
 * the COMPLETE trials with a finite value over the parameters every one of them has (the
 * intersection search space), numeric values as they are and categoricals one-hot, a random
 * forest fitted to the objective, and for each parameter the mean over the trees of the share of
 * the tree's variance that the parameter's marginal explains; normalized to sum to 1, largest
 * first. Parameters with a single possible value get 0.
 *
 * @example
 * const imp = parameterImportances(await study.trials());
 * // [["learning_rate", 0.83], ["num_train_epochs", 0.12], ["seed", 0.05]]
 */
export function parameterImportances(trials: readonly FrozenTrial[], opts: ImportanceOptions = {}): [string, number][] {
  const objective = opts.objective ?? 0;
  const complete = trials.filter((t) => t.state === "COMPLETE" && t.values !== null);
  const space = intersectionSpace(complete);
  const names = Object.keys(space).filter((n) => !isSingle(space[n]));
  const singles = Object.keys(space).filter((n) => isSingle(space[n])).map((n): [string, number] => [n, 0]);
  const done = complete.filter((t) => Number.isFinite(t.values![objective]));
  if (names.length === 0 || done.length < 2) return [];
  const { x, bounds, columns } = encode(done, names, space);
  const forest = fitForest(x, done.map((t) => t.values![objective]), {
    nTrees: opts.nTrees ?? 64, maxDepth: opts.maxDepth ?? 64, minSamplesSplit: 2, minSamplesLeaf: 1,
    seed: opts.seed ?? 0,
  });
  const trees = forest.map((t) => new FanovaTree(t, bounds)).filter((t) => t.variance > 0);
  if (trees.length === 0) return [];
  const share = (cols: number[]): number => trees.reduce((s, t) => s + t.marginalVariance(cols) / t.variance, 0);
  const raw = columns.map((cols) => share(cols) / trees.length);
  const total = raw.reduce((a, b) => a + b, 0);
  const shares = raw.map((v, i): [string, number] => [names[i], total > 0 ? v / total : 1 / names.length]);
  return [...shares, ...singles].sort((a, b) => b[1] - a[1]);
}

/** Optuna's intersection_search_space: the parameters every trial has with one same distribution, by name. */
function intersectionSpace(trials: readonly FrozenTrial[]): Record<string, Distribution> {
  if (trials.length === 0) return {};
  const space: Record<string, Distribution> = { ...trials[0].distributions };
  for (const t of trials.slice(1)) {
    for (const [n, d] of Object.entries(space)) {
      if (!(n in t.distributions) || !sameDistribution(d, t.distributions[n])) delete space[n];
    }
  }
  return Object.fromEntries(Object.keys(space).sort().map((n) => [n, space[n]]));
}

/** Optuna's _SearchSpaceTransform without log or step transforms: one column per number, one-hot categoricals. */
function encode(trials: readonly FrozenTrial[], names: string[], space: Record<string, Distribution>):
  { x: number[][]; bounds: [number, number][]; columns: number[][] } {
  const bounds: [number, number][] = [], columns: number[][] = [];
  for (const n of names) {
    const d = space[n];
    const width = d.kind === "categorical" ? d.choices.length : 1;
    columns.push(Array.from({ length: width }, (_, k) => bounds.length + k));
    for (let k = 0; k < width; k++) bounds.push(d.kind === "categorical" ? [0, 1] : [d.low, d.high]);
  }
  const x = trials.map((t) => names.flatMap((n) => {
    const d = space[n], v = t.internalParams[n];
    return d.kind === "categorical" ? d.choices.map((_, k) => (k === Math.round(v) ? 1 : 0)) : [v];
  }));
  return { x, bounds, columns };
}
