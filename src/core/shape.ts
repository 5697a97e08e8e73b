import { ShapeError } from "./errors.js";

/**
 * A dimension is a number or a symbol. A symbol is a name ("batch") or a product of names
 * written "batch*seq" with factors sorted, so equal products compare equal as strings.
 * One compiled graph serves every value a symbol takes.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];

export function formatShape(s: Shape): string {
  return `[${s.join(", ")}]`;
}

export function dimEq(a: Dim, b: Dim): boolean {
  return a === b;
}

export function shapeEq(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Product of dims; numbers fold, symbols multiply into a sorted product name. */
export function mulDims(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === "number") n *= d;
    else {
      for (const f of d.split("*")) {
        if (/^\d+$/.test(f)) n *= Number(f);
        else syms.push(f);
      }
    }
  }
  if (syms.length === 0) return n;
  if (n === 0) return 0;
  syms.sort();
  if (n !== 1) syms.unshift(String(n));
  return syms.join("*");
}

export function numel(s: Shape): Dim {
  return mulDims(s);
}

/** Numpy broadcasting; a symbol broadcasts only against itself or 1. */
export function broadcastShapes(a: Shape, b: Shape, what = "broadcast"): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new ShapeError(`${what}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${i}: ${da} vs ${db})`);
  }
  return out;
}

/** Normalise a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`${what}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Concrete value of a dim given values for its symbols. */
export function resolveDim(d: Dim, env: ReadonlyMap<string, number>): number {
  if (typeof d === "number") return d;
  let n = 1;
  for (const f of d.split("*")) {
    if (/^\d+$/.test(f)) n *= Number(f);
    else {
      const v = env.get(f);
      if (v === undefined) throw new ShapeError(`no value is bound for dimension "${f}"`);
      n *= v;
    }
  }
  return n;
}

export function resolveShape(s: Shape, env: ReadonlyMap<string, number>): number[] {
  return s.map((d) => resolveDim(d, env));
}

/** Bind the symbols of `s` from a concrete shape, checking numbers and earlier bindings agree. */
export function bindShape(s: Shape, actual: readonly number[], env: Map<string, number>, what: string): void {
  if (s.length !== actual.length) throw new ShapeError(`${what}: expected rank ${s.length} ${formatShape(s)}, got [${actual.join(", ")}]`);
  s.forEach((d, i) => {
    if (typeof d === "number") {
      if (d !== actual[i]) throw new ShapeError(`${what}: expected ${formatShape(s)}, got [${actual.join(", ")}]`);
    } else if (!d.includes("*")) {
      const prev = env.get(d);
      if (prev !== undefined && prev !== actual[i]) throw new ShapeError(`${what}: dimension "${d}" is ${prev} elsewhere, got ${actual[i]}`);
      env.set(d, actual[i]);
    }
  });
}
