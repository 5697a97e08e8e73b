// The test functions of bench/tpe.mjs, written against whet's Trial (bench/tpe_optuna.py holds the
// same functions for Optuna). Each has its known minimum, so a run's final regret is best - optimum.
import { readFileSync } from "node:fs";

const F = JSON.parse(readFileSync(new URL("./tpe_functions.json", import.meta.url), "utf8"));

function categoricalOptimum() {
  const [c0, c1, ...rest] = F.categorical_costs;
  let pair = Infinity;
  c0.forEach((a, i) => c1.forEach((b, j) => { pair = Math.min(pair, a + b + F.categorical_pair[i][j]); }));
  return pair + rest.reduce((s, c) => s + Math.min(...c), 0);
}

async function floats(t, n, low, high, opts) {
  const x = [];
  for (let i = 0; i < n; i++) x.push(await t.suggestFloat(`x${i}`, low, high, opts));
  return x;
}

export const PROBLEMS = {
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
      const x = await floats(t, 6, 0, 1);
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
      return (Math.log10(lr) + 3) ** 2 + (layers - 3) ** 2 / 4 + F.mixed_act[act] + 10 * (drop - 0.15) ** 2 +
        Math.log2(width / 64) ** 2 / 8;
    },
  },
  camel: {
    optimum: -1.0316285,
    async run(t) {
      const x = await t.suggestFloat("x", -3, 3), y = await t.suggestFloat("y", -2, 2);
      return (4 - 2.1 * x * x + x ** 4 / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y;
    },
  },
  rosenbrock4log: {
    optimum: 0,
    async run(t) {
      const x = await floats(t, 4, 1e-2, 10, { log: true });
      let f = 0;
      for (let i = 0; i < 3; i++) f += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
      return f;
    },
  },
  categorical: {
    optimum: categoricalOptimum(),
    async run(t) {
      const c = [];
      for (let i = 0; i < F.categorical_costs.length; i++) {
        const n = F.categorical_costs[i].length;
        c.push(await t.suggestCategorical(`c${i}`, Array.from({ length: n }, (_, j) => `v${j}`)));
      }
      const idx = c.map((v) => Number(v.slice(1)));
      const x = await t.suggestFloat("x", 0, 1);
      return idx.reduce((s, j, i) => s + F.categorical_costs[i][j], 0) + F.categorical_pair[idx[0]][idx[1]] +
        4 * (x - 0.3) ** 2;
    },
  },
};
