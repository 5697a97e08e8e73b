/**
 * The truncated normal distribution in the numerically careful form Optuna 3.x uses for TPE
 * (optuna/samplers/_tpe/_truncnorm.py): log-space CDFs so that kernels far in a tail still give
 * finite log densities, and an inverse CDF by bisection on log Φ.
 */
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT1_2 = Math.SQRT1_2;

/**
 * log erfc(x) for x ≥ 0. Below 2: 1 − erf by its series of positive terms
 * (erf x = 2/√π · e^{−x²} · Σ 2ⁿx^{2n+1}/(2n+1)!!), which never cancels; from 2: the continued
 * fraction erfc x = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated by
 * Lentz's method, kept in log form so e^{−x²} never underflows.
 */
function logErfcPositive(x: number): number {
  if (x < 2) {
    let term = x, sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
    return Math.log1p(-erf);
  }
  // f = x + a1/(x + a2/(x + …)), a_k = k/2
  const tiny = 1e-300;
  let f = x, c = x, d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

/** Φ(a), the standard normal CDF. */
export function ndtr(a: number): number {
  const x = a * SQRT1_2;
  if (x >= 0) return 1 - 0.5 * Math.exp(logErfcPositive(x));
  return 0.5 * Math.exp(logErfcPositive(-x));
}

/** log Φ(a), finite far into the left tail. */
export function logNdtr(a: number): number {
  if (a === Infinity) return 0;
  if (a === -Infinity) return -Infinity;
  const x = a * SQRT1_2;
  if (x >= 0) return Math.log1p(-0.5 * Math.exp(logErfcPositive(x)));
  return Math.log(0.5) + logErfcPositive(-x);
}

/** log(e^a − e^b) for a ≥ b. */
function logDiff(a: number, b: number): number {
  return a + Math.log1p(-Math.exp(b - a));
}

/** log(e^a + e^b). */
function logSum(a: number, b: number): number {
  const m = Math.max(a, b);
  return m === -Infinity ? -Infinity : m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** log of the standard normal mass in [a, b]. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** x with log Φ(x) = y, by bisection as Optuna does. */
function ndtriExp(y: number): number {
  let lo = -100, hi = 100;
  for (let i = 0; i < 100; i++) {
    const m = (lo + hi) / 2;
    if (logNdtr(m) < y) lo = m;
    else hi = m;
  }
  return (lo + hi) / 2;
}

/** Inverse CDF of the standard normal truncated to [a, b], at quantile q. */
export function truncnormPpf(q: number, a: number, b: number): number {
  if (a === b) return Number.NaN;
  if (q === 0) return a;
  if (q === 1) return b;
  if (a < 0) return ndtriExp(logSum(logNdtr(a), Math.log(q) + logGaussMass(a, b)));
  return -ndtriExp(logSum(logNdtr(-b), Math.log1p(-q) + logGaussMass(a, b)));
}

/** log density at x of N(loc, scale²) truncated to standardized bounds [a, b]. */
export function truncnormLogPdf(x: number, a: number, b: number, loc: number, scale: number): number {
  const z = (x - loc) / scale;
  if (a === b) return Number.NaN;
  if (z < a || z > b) return -Infinity;
  return -(z * z) / 2 - LOG_SQRT_2PI - logGaussMass(a, b) - Math.log(scale);
}
