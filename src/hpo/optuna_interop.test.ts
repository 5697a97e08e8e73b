import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { FrozenTrial } from "./frozen_trial.js";
import { distributionToJson } from "./distributions.js";
import { optunaMissing, PYTHON, skipUnless } from "../testing/test_services.js";
import { createStudy, loadStudy } from "./study_api.js";
import { TrialPruned } from "./trial.js";
import { TpeSampler } from "./tpe_sampler.js";

// Python's side: create a study (with an enqueued trial and trials of its own), continue one with
// Optuna's TPE, or dump every trial as JSON for comparison.
const SCRIPT = String.raw`
import json, math, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
cmd, url = sys.argv[1], sys.argv[2]
def objective(t):
    x = t.suggest_float("x", -2, 2)
    n = t.suggest_int("n", 1, 64, log=True)
    kind = t.suggest_categorical("kind", ["a", "b", "c"])
    s = t.suggest_float("s", 0, 1, step=0.25)
    for step in range(3):
        t.report(-(x - 1) ** 2 * (step + 1), step)
    t.set_user_attr("from", "optuna")
    return -(x - 1) ** 2 - math.log(n) - (kind != "b") - s
if cmd == "create":
    st = optuna.create_study(storage=url, study_name="shared", direction="maximize")
    st.enqueue_trial({"x": 0.5, "kind": "b"})
    st.optimize(objective, n_trials=0)
    st2 = optuna.load_study(storage=url, study_name="shared")
    st2.sampler = optuna.samplers.RandomSampler(seed=0)
elif cmd == "optimize":
    st = optuna.load_study(storage=url, study_name="shared", sampler=optuna.samplers.TPESampler(seed=1))
    st.optimize(objective, n_trials=int(sys.argv[3]))
elif cmd == "dump":
    st = optuna.load_study(storage=url, study_name="shared")
    v = lambda x: None if x is None else (repr(x) if isinstance(x, float) and (math.isnan(x) or math.isinf(x)) else x)
    print(json.dumps({"direction": st.direction.name, "trials": [{
        "number": t.number, "state": t.state.name, "values": t.values, "params": t.params,
        "distributions": {k: optuna.distributions.distribution_to_json(d) for k, d in t.distributions.items()},
        "intermediate": {str(k): v(x) for k, x in t.intermediate_values.items()},
        "user_attrs": t.user_attrs, "system_attrs": t.system_attrs} for t in st.trials]}))
`;

function python(dir: string, ...args: string[]): string {
  const script = join(dir, "optuna_side.py");
  writeFileSync(script, SCRIPT);
  const r = spawnSync(PYTHON, [script, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `python ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

/** whet's objective: the same function as Python's, with a prune and a failure on the way. */
async function whetObjective(t: import("./trial.js").Trial): Promise<number> {
  const x = await t.suggestFloat("x", -2, 2);
  const n = await t.suggestInt("n", 1, 64, { log: true });
  const kind = await t.suggestCategorical("kind", ["a", "b", "c"]);
  const s = await t.suggestFloat("s", 0, 1, { step: 0.25 });
  for (let step = 0; step < 3; step++) await t.report(-((x - 1) ** 2) * (step + 1), step);
  await t.setUserAttr("from", "whet");
  if (t.number === 4) throw new TrialPruned();
  if (t.number === 5) throw new Error("deliberate failure");
  return -((x - 1) ** 2) - Math.log(n) - (kind !== "b" ? 1 : 0) - s;
}

function compare(py: { trials: Record<string, unknown>[] }, ours: FrozenTrial[]): void {
  assert.equal(py.trials.length, ours.length);
  for (const [i, t] of ours.entries()) {
    const p = py.trials[i] as { number: number; state: string; values: number[] | null; params: unknown;
      distributions: Record<string, string>; intermediate: Record<string, number | string>; user_attrs: unknown };
    assert.equal(p.number, t.number);
    assert.equal(p.state, t.state, `trial ${t.number}`);
    assert.deepEqual(p.values, t.values, `values of trial ${t.number}`);
    assert.deepEqual(p.params, t.params, `params of trial ${t.number}`);
    assert.deepEqual(p.distributions, Object.fromEntries(Object.entries(t.distributions).map(([k, d]) =>
      [k, distributionToJson(d)])));
    assert.deepEqual(Object.keys(p.intermediate).map(Number), [...t.intermediateValues.keys()]);
    for (const [k, v] of t.intermediateValues) assert.equal(p.intermediate[String(k)], v);
    assert.deepEqual(p.user_attrs, t.userAttrs);
  }
}

test("Optuna creates a study, whet optimises it, Optuna reads every trial back", async (t) => {
  const { skip } = skipUnless(optunaMissing());
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(join(tmpdir(), "whet-optuna-"));
  const url = `sqlite:///${join(dir, "py.db")}`;
  python(dir, "create", url);
  python(dir, "optimize", url, "3");
  const study = await loadStudy({ storage: url, studyName: "shared",
    sampler: new TpeSampler({ seed: 3, nStartupTrials: 5 }) });
  assert.equal(study.direction, "maximize");
  assert.equal(study.storage.stamp, "v3.0.0.d");
  await study.optimize(whetObjective, { nTrials: 10, catch: true });
  const ours = await study.trials();
  assert.equal(ours.length, 13);
  assert.deepEqual(ours[0].params.x, 0.5, "the enqueued trial ran with its fixed parameters");
  assert.equal(ours[0].params.kind, "b");
  assert.equal(ours[4].state, "PRUNED");
  assert.equal(ours[5].state, "FAIL");
  assert.equal(ours[5].systemAttrs.fail_reason, "deliberate failure");
  compare(JSON.parse(python(dir, "dump", url)), ours);
  await study.storage.close();
});

test("whet creates a study (v3.0.0.d for Optuna 3.1), Optuna continues it with its TPE, whet reads it back",
  async (t) => {
  const { skip } = skipUnless(optunaMissing());
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(join(tmpdir(), "whet-optuna-"));
  const url = `sqlite:///${join(dir, "whet.db")}`;
  const study = await createStudy({ storage: url, studyName: "shared", direction: "maximize",
    newDatabaseStamp: "v3.0.0.d",
    sampler: new TpeSampler({ seed: 2 }) });
  await study.optimize(whetObjective, { nTrials: 6, catch: true });
  python(dir, "optimize", url, "5");
  const ours = await study.trials();
  assert.deepEqual(ours.map((x) => x.number), [...Array(11).keys()]);
  assert.deepEqual(ours.slice(6).map((x) => x.userAttrs.from), new Array(5).fill("optuna"));
  compare(JSON.parse(python(dir, "dump", url)), ours);
  await study.storage.close();
});
