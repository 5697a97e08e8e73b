import assert from "node:assert/strict";
import { test } from "node:test";
import { GridSampler } from "./grid_sampler.js";
import { RandomSampler } from "./random_sampler.js";
import type { Sampler } from "./sampler.js";
import { createStudy } from "./study_api.js";
import { TpeSampler } from "./tpe_sampler.js";

async function run(sampler: Sampler, n: number): Promise<{ values: number[]; params: unknown[] }> {
  const study = await createStudy({ sampler });
  await study.optimize(async (t) => {
    const x = await t.suggestFloat("x", -10, 10);
    const k = await t.suggestCategorical("k", ["a", "b", "c"]);
    const m = await t.suggestInt("m", 1, 100, { log: true });
    return (x - 3) ** 2 + (k === "b" ? 0 : 5) + Math.log(m) ** 2;
  }, { nTrials: n });
  const trials = await study.trials();
  return { values: trials.map((t) => t.values![0]), params: trials.map((t) => t.params) };
}

test("the same seed gives the same trials; another seed other ones", async () => {
  const a = await run(new TpeSampler({ seed: 7 }), 15), b = await run(new TpeSampler({ seed: 7 }), 15);
  assert.deepEqual(a.params, b.params);
  const c = await run(new TpeSampler({ seed: 8 }), 15);
  assert.notDeepEqual(a.params, c.params);
});

test("after its 10 random trials TPE concentrates on the good region (better than random on average)", async () => {
  let tpe = 0, rnd = 0;
  for (let seed = 0; seed < 4; seed++) {
    tpe += Math.min(...(await run(new TpeSampler({ seed }), 30)).values);
    rnd += Math.min(...(await run(new RandomSampler({ seed }), 30)).values);
  }
  assert.ok(tpe < rnd, `TPE ${tpe / 4} vs random ${rnd / 4}`);
  for (const multivariate of [false, true]) {
    const r = await run(new TpeSampler({ seed: 1, multivariate, constantLiar: true }), 30);
    assert.ok(Math.min(...r.values) < 3, `multivariate=${multivariate}: ${Math.min(...r.values)}`);
  }
});

test("grid sampler visits every point once, then stops the study", async () => {
  const study = await createStudy({ sampler: new GridSampler({ a: [1, 2, 3], b: ["x", "y"] }, { seed: 0 }) });
  await study.optimize(async (t) => (await t.suggestInt("a", 1, 3)) +
    ((await t.suggestCategorical("b", ["x", "y"])) === "x" ? 0 : 10),
    { nTrials: 50 });
  const trials = await study.trials();
  assert.equal(trials.length, 6);
  const seen = new Set(trials.map((t) => `${t.params.a}${t.params.b}`));
  assert.deepEqual(seen, new Set(["1x", "2x", "3x", "1y", "2y", "3y"]));
  assert.deepEqual(trials[0].systemAttrs.search_space, { a: [1, 2, 3], b: ["x", "y"] });
});
