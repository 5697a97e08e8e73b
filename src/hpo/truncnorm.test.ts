import assert from "node:assert/strict";
import { test } from "node:test";
import { logGaussMass, logNdtr, truncnormLogPdf, truncnormPpf } from "./truncnorm.js";

// [a, b, log mass, ppf(0.3), log Φ(a)] from Optuna 3.1's _truncnorm (python3-optuna).
const REF: number[][] = [
  [-3, -1, -1.8495664205476083, -1.6591627097176604, -6.607726221510348],
  [-1, 2, -0.20016629432446262, -0.24240381788922666, -1.8410216450092634],
  [0.5, 3, -1.1802965106326773, 0.7844732142890245, -0.36894641528865635],
  [-40, -30, -454.32124395634315, -30.04006129367795, -804.6084420137538],
  [5, 9, -15.064998393989118, 5.068334263012984, -2.866516130081049e-7],
  [-0.2, 0.1, -2.1278963696652227, -0.10933963713604758, -0.8657395226815952],
];

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

test("log mass, inverse CDF and log Φ agree with Optuna's", () => {
  for (const [a, b, mass, ppf, lnd] of REF) {
    assert.ok(rel(logGaussMass(a, b), mass) < 1e-9, `mass ${a},${b}: ${logGaussMass(a, b)} vs ${mass}`);
    assert.ok(rel(truncnormPpf(0.3, a, b), ppf) < 1e-9, `ppf ${a},${b}: ${truncnormPpf(0.3, a, b)} vs ${ppf}`);
    assert.ok(rel(logNdtr(a), lnd) < 1e-6, `logNdtr ${a}: ${logNdtr(a)} vs ${lnd}`);
  }
});

test("the truncated density is normalized for any scale, and zero outside", () => {
  const [lo, hi, mu, sigma] = [-1, 4, 0.5, 0.7];
  const a = (lo - mu) / sigma, b = (hi - mu) / sigma;
  const h = 1e-3;
  let s = 0;
  for (let x = lo; x <= hi + 1e-12; x += h) s += Math.exp(truncnormLogPdf(x, a, b, mu, sigma)) * h;
  assert.ok(Math.abs(s - 1) < 2e-3, `integral ${s}`);
  assert.equal(truncnormLogPdf(hi + 0.1, a, b, mu, sigma), -Infinity);
});

test("ppf inverts the CDF", () => {
  for (const q of [0.01, 0.5, 0.99]) {
    const x = truncnormPpf(q, -2, 1);
    const cdf = Math.exp(logGaussMass(-2, x) - logGaussMass(-2, 1));
    assert.ok(Math.abs(cdf - q) < 1e-9, `q ${q}: ${cdf}`);
  }
});
