// Mean final regret of whet's TPE and random search beside Optuna's TPE (Debian's python3-optuna),
// on the functions of bench/tpe_problems.mjs (Branin, Hartmann-6, a mixed log-float/int/categorical/
// stepped space, six-hump camel, Rosenbrock-4 over log ranges, a categorical-heavy space):
// 40 trials x 10 seeds by default. Columns: whet's default TPE (multivariate, Scott's-rule
// bandwidths), whet's TPE with Optuna's multivariate bandwidths, whet's TPE univariate (Optuna's
// default setting), whet's random sampler, Optuna 3.1's TPE with its defaults. Deterministic.
// Run: npx tsc -p tsconfig.json && node bench/tpe.mjs [--trials 40] [--seeds 10] [--no-optuna]
import { spawnSync } from "node:child_process";
import { createStudy } from "../dist/hpo/study_api.js";
import { TpeSampler } from "../dist/hpo/tpe_sampler.js";
import { RandomSampler } from "../dist/hpo/random_sampler.js";
import { PROBLEMS } from "./tpe_problems.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const TRIALS = arg("--trials", 40), SEEDS = arg("--seeds", 10);
const SKIP_OPTUNA = process.argv.includes("--no-optuna");

const SAMPLERS = {
  "whet TPE (default)": (seed) => new TpeSampler({ seed }),
  "whet TPE mv Optuna-bw": (seed) => new TpeSampler({ seed, multivariateBandwidth: "optuna" }),
  "whet TPE univariate": (seed) => new TpeSampler({ seed, multivariate: false }),
  "whet random": (seed) => new RandomSampler({ seed }),
};

async function regret(problem, makeSampler, seed) {
  const study = await createStudy({ sampler: makeSampler(seed) });
  await study.optimize((t) => PROBLEMS[problem].run(t), { nTrials: TRIALS });
  return (await study.bestTrial()).values[0] - PROBLEMS[problem].optimum;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const fmt = (xs) => `${mean(xs).toFixed(3)} ± ${(sd(xs) / Math.sqrt(xs.length)).toFixed(3)}`;

const script = new URL("./tpe_optuna.py", import.meta.url).pathname;
const optuna = SKIP_OPTUNA ? { status: 1, stderr: "--no-optuna" }
  : spawnSync("/usr/bin/python3", [script, String(TRIALS), String(SEEDS)], { encoding: "utf8" });
const optunaRegret = optuna.status === 0 ? JSON.parse(optuna.stdout.trim().split("\n").pop()) : null;
if (optunaRegret === null) {
  console.error(`Optuna not run (apt-get install python3-optuna): ${optuna.stderr || optuna.error}`);
}

console.log(`mean final regret after ${TRIALS} trials, ${SEEDS} seeds (± standard error); lower is better`);
const header = ["function", ...Object.keys(SAMPLERS), "Optuna 3.1 TPE"];
console.log(header.map((s) => s.padEnd(23)).join(""));
for (const problem of Object.keys(PROBLEMS)) {
  const cells = [problem];
  for (const make of Object.values(SAMPLERS)) {
    const r = [];
    for (let s = 0; s < SEEDS; s++) r.push(await regret(problem, make, s));
    cells.push(fmt(r));
  }
  const py = optunaRegret?.[problem];
  cells.push(py ? fmt(py) : "n/a");
  console.log(cells.map((s) => s.padEnd(23)).join(""));
}
