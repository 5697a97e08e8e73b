import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { optunaMissing, PYTHON, skipUnless } from "../testing/test_services.js";
import { FanovaTree } from "./fanova_tree.js";
import { parameterImportances } from "./importance.js";
import { RandomSampler } from "./random_sampler.js";
import { fitForest, type RegressionTree } from "./regression_forest.js";
import { createStudy } from "./study_api.js";

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("fANOVA of one tree: an additive tree splits its variance exactly between its features", () => {
  // f = 2·[x0 > 0.5] + [x1 > 0.5] on the unit square: variance 4·¼ + ¼, x0 explains 1 of it, x1 ¼
  const tree: RegressionTree = {
    feature: [0, 1, -1, -1, 1, -1, -1], threshold: [0.5, 0.5, -2, -2, 0.5, -2, -2],
    left: [1, 2, -1, -1, 5, -1, -1], right: [4, 3, -1, -1, 6, -1, -1], value: [1.5, 0.5, 0, 1, 2.5, 2, 3],
  };
  const ft = new FanovaTree(tree, [[0, 1], [0, 1]]);
  close(ft.variance, 1.25);
  close(ft.marginalVariance([0]), 1);
  close(ft.marginalVariance([1]), 0.25);
  close(ft.marginalVariance([0, 1]), 1.25);
});

test("fANOVA of one tree weighs each leaf by its share of the search box", () => {
  // x0 in [0, 4] cut at 1: 0 on a quarter of the box, 4 on three quarters -> mean 3, variance 3
  const tree: RegressionTree = { feature: [0, -1, -1], threshold: [1, -2, -2], left: [1, -1, -1], right: [2, -1, -1],
    value: [2, 0, 4] };
  const ft = new FanovaTree(tree, [[0, 4], [10, 20]]);
  close(ft.variance, 3);
  close(ft.marginalVariance([0]), 3);
  close(ft.marginalVariance([1]), 0);
});

test("a regression tree with unlimited depth reproduces distinct training targets", () => {
  const x = [[0.1, 5], [0.4, 3], [0.2, 9], [0.9, 1]], y = [1, 7, 3, -2];
  const [tree] = fitForest(x, y, { nTrees: 1, maxDepth: 64, minSamplesSplit: 2, minSamplesLeaf: 1, seed: 3 });
  const predict = (row: number[]): number => {
    let n = 0;
    while (tree.feature[n] >= 0) n = row[tree.feature[n]] <= tree.threshold[n] ? tree.left[n] : tree.right[n];
    return tree.value[n];
  };
  // the bootstrap leaves some rows out; the ones it drew are fitted exactly
  const fitted = x.filter((row, i) => predict(row) === y[i]);
  assert.ok(fitted.length >= 2, `fitted ${fitted.length} of 4`);
  tree.feature.forEach((f, i) => { if (f >= 0) assert.ok(tree.left[i] > i && tree.right[i] > i); });
});

async function dominantStudy(storage?: string): Promise<Awaited<ReturnType<typeof createStudy>>> {
  const study = await createStudy({ storage, newDatabaseStamp: "v3.0.0.d", studyName: "imp",
    sampler: new RandomSampler({ seed: 4 }) });
  await study.optimize(async (t) => {
    const lr = await t.suggestFloat("lr", 1e-5, 1e-1, { log: true });
    const layers = await t.suggestInt("layers", 1, 8);
    const act = await t.suggestCategorical("act", ["relu", "gelu", "tanh"]);
    const fixed = await t.suggestInt("fixed", 3, 3);
    return 3 * (Math.log10(lr) + 3) ** 2 + layers + (act === "tanh" ? 0.5 : 0) + fixed;
  }, { nTrials: 60 });
  return study;
}

test("importances find the dominant parameter, rank the others, and give a constant one 0", async () => {
  const imp = await parameterImportances(await (await dominantStudy()).trials());
  assert.deepEqual(imp.map(([n]) => n), ["lr", "layers", "act", "fixed"]);
  assert.ok(imp[0][1] > 0.8, `lr ${imp[0][1]}`);
  close(imp.reduce((s, [, v]) => s + v, 0), 1, 1e-9);
  assert.equal(imp[3][1], 0);
  assert.deepEqual(parameterImportances(await (await dominantStudy()).trials()), imp, "reproducible");
});

const SKLEARN = ((): string | null => {
  const missing = optunaMissing();
  if (missing !== null) return missing;
  const r = spawnSync(PYTHON, ["-c", "import sklearn"], { encoding: "utf8" });
  return r.status === 0 ? null : "python3-sklearn is not installed (apt-get install -y python3-sklearn)";
})();

test("importances agree with Optuna's FanovaImportanceEvaluator on the same trials", skipUnless(SKLEARN), async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-fanova-"));
  const url = `sqlite:///${join(dir, "s.db")}`;
  const ours = parameterImportances(await (await dominantStudy(url)).trials());
  writeFileSync(join(dir, "imp.py"), [
    "import json, sys, optuna",
    "st = optuna.load_study(storage=sys.argv[1], study_name='imp')",
    "ev = optuna.importance.FanovaImportanceEvaluator(seed=0)",
    "print(json.dumps(optuna.importance.get_param_importances(st, evaluator=ev)))",
  ].join("\n"));
  const r = spawnSync(PYTHON, [join(dir, "imp.py"), url], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const theirs = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
  assert.deepEqual(ours.map(([n]) => n), Object.keys(theirs));
  // both forests are random (different generators): their seed-to-seed spread here is about ±0.04
  for (const [n, v] of ours) close(v, theirs[n], 0.08);
});
