// Mean final regret of whet's TPE and random search beside Optuna's TPE (Debian's python3-optuna),
// on Branin, Hartmann-6 and a mixed log-float/int/categorical/stepped space: 40 trials x 10 seeds.
// whet's default TPE is multivariate; "univariate" is Optuna's default setting; Optuna runs with its defaults.
// Run: npx tsc -p tsconfig.json && node bench/tpe.mjs [--trials 40] [--seeds 10]
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createStudy } from "../dist/hpo/study_api.js";
import { TpeSampler } from "../dist/hpo/tpe_sampler.js";
import { RandomSampler } from "../dist/hpo/random_sampler.js";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const TRIALS = arg("--trials", 40), SEEDS = arg("--seeds", 10);
const SKIP_OPTUNA = process.argv.includes("--no-optuna");
const F = JSON.parse(readFileSync(new URL("./tpe_functions.json", import.meta.url), "utf8"));

const PROBLEMS = {
  branin: {
    optimum: 0.397887,
    async run(t) {
      const x = await t.suggestFloat("x", -5, 10), y = await t.suggestFloat("y", 0, 15);
      const b = 5.1 / (4 * Math.PI ** 2), c = 5 / Math.PI, s = 10, r = 6, tt = 1 / (8 * Math.PI);
      return (y - b * x * x + c * x - r) ** 2 + s * (1 - tt) * Math.cos(x) + s;
    },
  },
  hartmann6: {
    optimum: -3.32237,
    async run(t) {
      const x = [];
      for (let i = 0; i < 6; i++) x.push(await t.suggestFloat(`x${i}`, 0, 1));
      const { alpha, A, P } = F.hartmann6;
      let sum = 0;
      for (let i = 0; i < 4; i++) {
        let inner = 0;
        for (let j = 0; j < 6; j++) inner += A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2;
        sum += alpha[i] * Math.exp(-inner);
      }
      return -sum;
    },
  },
  mixed: {
    optimum: 0,
    async run(t) {
      const lr = await t.suggestFloat("lr", 1e-5, 1e-1, { log: true });
      const layers = await t.suggestInt("layers", 1, 8);
      const act = await t.suggestCategorical("act", ["relu", "gelu", "tanh", "sigmoid"]);
      const drop = await t.suggestFloat("dropout", 0, 0.5, { step: 0.05 });
      const width = await t.suggestInt("width", 8, 512, { log: true });
      return (Math.log10(lr) + 3) ** 2 + (layers - 3) ** 2 / 4 + F.mixed_act[act] + 10 * (drop - 0.15) ** 2 + Math.log2(width / 64) ** 2 / 8;
    },
  },
};

async function regret(problem, makeSampler, seed) {
  const study = await createStudy({ sampler: makeSampler(seed) });
  await study.optimize((t) => PROBLEMS[problem].run(t), { nTrials: TRIALS });
  return (await study.bestTrial()).values[0] - PROBLEMS[problem].optimum;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const fmt = (xs) => `${mean(xs).toFixed(4)} ± ${(sd(xs) / Math.sqrt(xs.length)).toFixed(4)}`;

const optuna = SKIP_OPTUNA ? { status: 1, stderr: "--no-optuna" } : spawnSync("/usr/bin/python3", [new URL("./tpe_optuna.py", import.meta.url).pathname, String(TRIALS), String(SEEDS)],
  { encoding: "utf8" });
const optunaRegret = optuna.status === 0 ? JSON.parse(optuna.stdout.trim().split("\n").pop()) : null;
if (optunaRegret === null) console.error(`Optuna not run (apt-get install python3-optuna): ${optuna.stderr || optuna.error}`);

console.log(`mean final regret after ${TRIALS} trials, ${SEEDS} seeds (± standard error); lower is better`);
console.log(["function", "whet TPE (default)", "whet TPE univariate", "whet random", "Optuna 3.1 TPE"].map((s) => s.padEnd(22)).join(""));
for (const problem of Object.keys(PROBLEMS)) {
  const tpe = [], uni = [], rnd = [];
  for (let s = 0; s < SEEDS; s++) {
    tpe.push(await regret(problem, (seed) => new TpeSampler({ seed }), s));
    uni.push(await regret(problem, (seed) => new TpeSampler({ seed, multivariate: false }), s));
    rnd.push(await regret(problem, (seed) => new RandomSampler({ seed }), s));
  }
  const py = optunaRegret?.[problem];
  console.log([problem, fmt(tpe), fmt(uni), fmt(rnd), py ? fmt(py) : "n/a"].map((s) => s.padEnd(22)).join(""));
}
