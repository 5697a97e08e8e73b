import { WhetError } from "../core/errors.js";
import { pyDumps, pyFloat, pyLoads } from "./py_json.js";

/**
 * The three distributions of Optuna 3.x (optuna/distributions.py), with the same validation, the
 * same rounding of `high` to a whole number of steps, the same JSON (`distribution_json` column)
 * and the same internal representation (the `param_value` column: a float; a categorical's choice
 * index).
 */
export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;
export type Choice = string | number | boolean | null;

export interface FloatDistribution {
  kind: "float";
  low: number;
  high: number;
  log: boolean;
  step: number | null;
}

export interface IntDistribution {
  kind: "int";
  low: number;
  high: number;
  log: boolean;
  step: number;
}

export interface CategoricalDistribution {
  kind: "categorical";
  choices: Choice[];
}

export class DistributionError extends WhetError {}

/** A float range; `high` is lowered to the last whole step as Optuna does. */
export function floatDistribution(low: number, high: number, opts: { log?: boolean; step?: number | null } = {},
  where = "suggest_float"): FloatDistribution {
  const log = opts.log ?? false, step = opts.step ?? null;
  if (!Number.isFinite(low) || !Number.isFinite(high))
    throw new DistributionError(`${where}: low and high must be finite numbers (low=${low}, high=${high})`);
  if (log && step !== null) throw new DistributionError(`${where}: step is not supported when log is true`);
  if (low > high)
    throw new DistributionError(`${where}: low must be smaller than or equal to high (low=${low}, high=${high})`);
  if (log && low <= 0)
    throw new DistributionError(`${where}: low must be larger than 0 for a log distribution (low=${low}, ` +
      `high=${high})`);
  if (step !== null && !(step > 0))
    throw new DistributionError(`${where}: step must be a positive number, got ${step}`);
  return { kind: "float", low, high: step === null ? high : adjustFloatHigh(low, high, step), log, step };
}

/** An integer range; `high` is lowered to the last whole step as Optuna does. */
export function intDistribution(low: number, high: number, opts: { log?: boolean; step?: number } = {},
  where = "suggest_int"): IntDistribution {
  const log = opts.log ?? false, step = opts.step ?? 1;
  if (!Number.isInteger(low) || !Number.isInteger(high))
    throw new DistributionError(`${where}: low and high must be integers (low=${low}, high=${high})`);
  if (!Number.isInteger(step)) throw new DistributionError(`${where}: step must be an integer, got ${step}`);
  if (log && step !== 1)
    throw new DistributionError(`${where}: step other than 1 is not supported when log is true (step=${step})`);
  if (low > high)
    throw new DistributionError(`${where}: low must be smaller than or equal to high (low=${low}, high=${high})`);
  if (log && low < 1)
    throw new DistributionError(`${where}: low must be at least 1 for a log distribution (low=${low}, high=${high})`);
  if (step <= 0) throw new DistributionError(`${where}: step must be a positive integer, got ${step}`);
  const r = high - low;
  return { kind: "int", low, high: r % step === 0 ? high : Math.floor(r / step) * step + low, log, step };
}

export function categoricalDistribution(
  choices: readonly Choice[], where = "suggest_categorical",
): CategoricalDistribution {
  if (choices.length === 0) throw new DistributionError(`${where}: choices must not be empty`);
  for (const c of choices) {
    if (c !== null && !["string", "number", "boolean"].includes(typeof c)) {
      throw new DistributionError(`${where}: choices must be strings, numbers, booleans or null, got ` +
        `${JSON.stringify(c)}`);
    }
  }
  return { kind: "categorical", choices: [...choices] };
}

// Optuna computes this with decimal.Decimal(str(x)); scaling to integers by the longest decimal
// expansion is the same arithmetic for the decimal numbers people write in a space file.
function adjustFloatHigh(low: number, high: number, step: number): number {
  const scale = 10 ** Math.max(decimals(low), decimals(high), decimals(step));
  const [l, h, s] = [low, high, step].map((x) => Math.round(x * scale));
  const r = h - l;
  if (scale > 1e15 || r % s === 0) return high;
  return (Math.floor(r / s) * s + l) / scale;
}

function decimals(x: number): number {
  const t = String(x);
  const m = /^-?\d*(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(t);
  if (m === null) return 0;
  return Math.max(0, (m[1]?.length ?? 0) - Number(m[2] ?? 0));
}

/** True when the distribution has one possible value (Optuna's `single()`). */
export function isSingle(d: Distribution): boolean {
  if (d.kind === "categorical") return d.choices.length === 1;
  if (d.low === d.high) return true;
  return d.kind === "float" && d.step !== null && d.high - d.low < d.step * (1 - 1e-12);
}

/** External value (what the objective sees) -> stored float. */
export function toInternal(d: Distribution, value: unknown): number {
  if (d.kind === "categorical") {
    const i = d.choices.findIndex((c) => choiceEqual(c, value));
    if (i < 0)
      throw new DistributionError(`${JSON.stringify(value)} is not one of the choices ${JSON.stringify(d.choices)}`);
    return i;
  }
  const x = typeof value === "number" ? value : Number.NaN;
  if (Number.isNaN(x))
    throw new DistributionError(`${JSON.stringify(value)} is not a valid value: a number is expected`);
  if (d.log && x <= 0) throw new DistributionError(`${x} is not a valid value for a log distribution`);
  return x;
}

/** Stored float -> external value. */
export function toExternal(d: Distribution, internal: number): Choice {
  if (d.kind === "categorical") {
    const i = Math.round(internal);
    if (i < 0 || i >= d.choices.length)
      throw new DistributionError(`choice index ${internal} is out of range for ${JSON.stringify(d.choices)}`);
    return d.choices[i];
  }
  return d.kind === "int" ? Math.round(internal) : internal;
}

/** Whether a stored value lies in the distribution (Optuna's `_contains`). */
export function contains(d: Distribution, internal: number): boolean {
  if (d.kind === "categorical") return Number.isInteger(internal) && internal >= 0 && internal < d.choices.length;
  if (internal < d.low || internal > d.high) return false;
  if (d.kind === "float" && d.step === null) return true;
  const k = (internal - d.low) / d.step!;
  return Math.abs(k - Math.round(k)) < 1e-8;
}

function choiceEqual(a: Choice, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b));
  return a === b;
}

/** Optuna's `distribution_to_json`, attribute order included. */
export function distributionToJson(d: Distribution): string {
  if (d.kind === "categorical") return pyDumps({ name: "CategoricalDistribution", attributes: { choices: d.choices } });
  if (d.kind === "float") {
    const attributes = { step: d.step === null ? null : pyFloat(d.step), low: pyFloat(d.low), high: pyFloat(d.high),
      log: d.log };
    return pyDumps({ name: "FloatDistribution", attributes });
  }
  return pyDumps({ name: "IntDistribution", attributes: { log: d.log, step: d.step, low: d.low, high: d.high } });
}

/** Optuna's `json_to_distribution`, including the pre-3.0 names (Uniform, LogUniform, IntUniform, …). */
export function distributionFromJson(text: string): Distribution {
  type Json = { name?: string; attributes?: Record<string, unknown>; type?: string } & Record<string, unknown>;
  const j = pyLoads(text) as Json;
  const a = (j.attributes ?? j) as Record<string, number & boolean & Choice[]>;
  switch (j.name ?? j.type) {
    case "FloatDistribution": case "float":
      return floatDistribution(a.low, a.high, { log: a.log ?? false, step: a.step ?? null });
    case "IntDistribution": case "int":
      return intDistribution(a.low, a.high, { log: a.log ?? false, step: a.step ?? 1 });
    case "CategoricalDistribution": case "categorical":
      return categoricalDistribution(a.choices);
    case "UniformDistribution": return floatDistribution(a.low, a.high);
    case "LogUniformDistribution": return floatDistribution(a.low, a.high, { log: true });
    case "DiscreteUniformDistribution": return floatDistribution(a.low, a.high, { step: a.q as unknown as number });
    case "IntUniformDistribution": return intDistribution(a.low, a.high, { step: a.step ?? 1 });
    case "IntLogUniformDistribution": return intDistribution(a.low, a.high, { log: true });
    default: throw new DistributionError(`unknown distribution ${JSON.stringify(j.name ?? j.type)} in ${text}`);
  }
}

/** Optuna's `check_distribution_compatibility`: one name keeps one kind (and, for categoricals, one choice list). */
export function checkCompatible(name: string, old: Distribution, now: Distribution): void {
  if (old.kind !== now.kind || (old.kind !== "categorical" && old.log !== (now as FloatDistribution).log)) {
    throw new DistributionError(`parameter "${name}" was ${describe(old)} in earlier trials and cannot become ` +
      `${describe(now)}`);
  }
  const choicesDiffer = (a: CategoricalDistribution, b: CategoricalDistribution): boolean =>
    JSON.stringify(a.choices) !== JSON.stringify(b.choices);
  if (old.kind === "categorical" && choicesDiffer(old, now as CategoricalDistribution)) {
    throw new DistributionError(`parameter "${name}" had choices ${JSON.stringify(old.choices)} in earlier trials, ` +
      `not ${JSON.stringify((now as CategoricalDistribution).choices)}`);
  }
}

export function describe(d: Distribution): string {
  if (d.kind === "categorical") return `categorical ${JSON.stringify(d.choices)}`;
  const extra = [d.log ? "log" : "", d.step !== null && d.step !== 1 ? `step ${d.step}` : ""]
    .filter(Boolean).join(", ");
  return `${d.kind} [${d.low}, ${d.high}]${extra ? ` (${extra})` : ""}`;
}

export function sameDistribution(a: Distribution, b: Distribution): boolean {
  return distributionToJson(a) === distributionToJson(b);
}
