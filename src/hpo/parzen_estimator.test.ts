import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import { categoricalDistribution, floatDistribution, intDistribution } from "./distributions.js";
import { defaultWeights, ParzenEstimator, type ParzenOptions } from "./parzen_estimator.js";

// Reference numbers printed by Optuna 3.1's _ParzenEstimator (python3-optuna) for these observations.
const OBS = { x: [0.1, 2.5, -1.0, 3.3, 0.7], n: [1, 4, 16, 64, 8], c: [0, 2, 1, 2, 2] };
const SPACE = { x: floatDistribution(-5, 5), n: intDistribution(1, 64, { log: true }),
  c: categoricalDistribution(["a", "b", "c"]) };
const opts = (multivariate: boolean): ParzenOptions => ({
  considerPrior: true, priorWeight: 1, considerMagicClip: true, considerEndpoints: false, multivariate,
    weights: defaultWeights,
});
const close = (a: number[], b: number[]): void =>
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-12, `${a} vs ${b}`));

test("univariate bandwidths are Optuna's (neighbour gaps, magic clip, prior kernel)", () => {
  const pe = new ParzenEstimator(OBS, SPACE, opts(false));
  const x = pe.kernelsOf("x") as { mus: number[]; sigmas: number[] };
  close(x.mus, [0.1, 2.5, -1.0, 3.3, 0.7, 0.0]);
  close(x.sigmas, [1.4285714285714286, 1.8, 1.4285714285714286, 1.4285714285714286, 1.8, 10.0]);
  const n = pe.kernelsOf("n") as { mus: number[]; sigmas: number[] };
  close(n.mus, [0.0, 1.3862943611198906, 2.772588722239781, 4.1588830833596715, 2.0794415416798357,
    1.7367590216208906]);
  close(n.sigmas, [1.3862943611198906, 1.3862943611198906, 1.3862943611198904, 1.3862943611198904, 0.6942589149088103,
    4.859812404361672]);
  const c = pe.kernelsOf("c") as { probs: number[][] };
  close(c.probs[0], [0.7777777777777777, 0.1111111111111111, 0.1111111111111111]);
  close(c.probs[5], [1 / 3, 1 / 3, 1 / 3]);
  close(pe.weights, new Array(6).fill(1 / 6));
});

test("multivariate bandwidths with multivariateBandwidth \"optuna\" are Optuna's (a share of the range)", () => {
  const pe = new ParzenEstimator(OBS, SPACE, { ...opts(true), multivariateBandwidth: "optuna" });
  close((pe.kernelsOf("x") as { sigmas: number[] }).sigmas, [...new Array(5).fill(1.5891948094037045), 10]);
  close((pe.kernelsOf("n") as { sigmas: number[] }).sigmas,
    [...new Array(5).fill(0.7723188647687306), 4.859812404361672]);
});

test("whet's default multivariate bandwidths follow Scott's rule on the observations' spread", () => {
  // 1.059 · min(sd, IQR/1.34) · n^(−1/(d+4)) with n = 5, d = 3 (numpy's sd and percentiles), magic clip below
  const pe = new ParzenEstimator(OBS, SPACE, opts(true));
  close((pe.kernelsOf("x") as { sigmas: number[] }).sigmas, [...new Array(5).fill(1.4796631051454965), 10]);
  close((pe.kernelsOf("n") as { sigmas: number[] }).sigmas,
    [...new Array(5).fill(0.8705500818560441), 4.859812404361672]);
  // all good trials at one point: no spread, the magic clip sets the width
  const one = new ParzenEstimator({ x: [1, 1, 1] }, { x: floatDistribution(-5, 5) }, opts(true));
  close((one.kernelsOf("x") as { sigmas: number[] }).sigmas, [2, 2, 2, 10]);
});

test("weights ramp up the oldest observations after 25", () => {
  const w = defaultWeights(30);
  close(w.slice(0, 6), [0.03333333333333333, 0.275, 0.5166666666666667, 0.7583333333333333, 1.0, 1.0]);
  assert.equal(w.length, 30);
  assert.deepEqual(defaultWeights(24), new Array(24).fill(1));
});

test("samples stay in range and on the grid; the density integrates to one", () => {
  const space = { s: floatDistribution(0, 1, { step: 0.1 }), x: floatDistribution(-5, 5),
    n: intDistribution(1, 64, { log: true }) };
  const pe = new ParzenEstimator({ s: [0.2, 0.7], x: [0.1, 2.5], n: [3, 40] }, space, opts(false));
  const draws = pe.sample(new Rng(3), 200);
  for (const v of draws.s) assert.ok(v >= 0 && v <= 1 && Math.abs(v * 10 - Math.round(v * 10)) < 1e-9, `s=${v}`);
  for (const v of draws.n) assert.ok(Number.isInteger(v) && v >= 1 && v <= 64, `n=${v}`);
  const one = new ParzenEstimator({ x: [0.1, 2.5, -4.9] }, { x: floatDistribution(-5, 5) }, opts(false));
  const xs = Array.from({ length: 20001 }, (_, i) => -5 + i * 0.0005);
  const dens = one.logPdf({ x: xs }).map(Math.exp);
  const integral = dens.reduce((s, d, i) => s + (i === 0 || i === xs.length - 1 ? d / 2 : d), 0) * 0.0005;
  assert.ok(Math.abs(integral - 1) < 1e-4, `integral ${integral}`);
  const disc = new ParzenEstimator({ s: [0.2, 0.7] }, { s: floatDistribution(0, 1, { step: 0.1 }) }, opts(false));
  const mass = disc.logPdf({ s: Array.from({ length: 11 }, (_, i) => i / 10) }).map(Math.exp).reduce((a, b) => a + b);
  assert.ok(Math.abs(mass - 1) < 1e-9, `discrete mass ${mass}`);
});
