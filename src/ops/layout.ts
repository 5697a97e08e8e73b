import { WhetError, ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { formatShape, mulDims, normAxis, numel, shapeEq, type Dim, type Shape } from "../core/shape.js";
import { apply1, defineOp, type LowerCtx } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { size, strides, unravel } from "./ref_util.js";

// Ops that move elements without changing them: reshape, transpose, slice/pad, concat.

const INT64_MAX = 9223372036854775807n;

/**
 * Sum of dims when it is itself a dim: numbers fold and equal symbol products add their
 * coefficients ("b" + "b" = "2*b", "t" + 0 = "t"); null when it is not ("t" + 1).
 */
export function addDims(dims: readonly Dim[]): Dim | null {
  const coef = new Map<string, number>();
  for (const d of dims) {
    let c = 1;
    const syms: string[] = [];
    if (typeof d === "number") c = d;
    else {
      for (const f of d.split("*")) {
        if (/^\d+$/.test(f)) c *= Number(f);
        else syms.push(f);
      }
    }
    const mono = syms.sort().join("*");
    coef.set(mono, (coef.get(mono) ?? 0) + c);
  }
  const terms = [...coef].filter(([, c]) => c !== 0);
  if (terms.length === 0) return 0;
  if (terms.length > 1) return null;
  const [mono, c] = terms[0];
  return mono === "" ? c : mulDims([c, mono]);
}

/** A [1] int64 tensor holding Σ sign·dim, folding numbers into one constant. */
function dimSum(ctx: LowerCtx, terms: readonly [1 | -1, Dim][]): string {
  let n = 0;
  let acc: string | null = null;
  for (const [s, d] of terms) {
    if (typeof d === "number") n += s * d;
    else if (acc === null && s === 1) acc = ctx.shapeTensor([d]);
    else acc = ctx.emit(s === 1 ? "Add" : "Sub", [acc ?? ctx.constant(ndarray("int64", [1], [0])), ctx.shapeTensor([d])])[0];
  }
  if (acc === null) return ctx.constant(ndarray("int64", [1], [n]));
  return n === 0 ? acc : ctx.emit("Add", [acc, ctx.constant(ndarray("int64", [1], [n]))])[0];
}

// ---------------------------------------------------------------------------------------------
// Reshape

export const reshapeOp = defineOp<{ shape: Shape }>({
  name: "Reshape",
  infer([x], { shape }) {
    if (shape.some((d) => typeof d === "number" && (d < 0 || !Number.isInteger(d)))) {
      throw new ShapeError(`cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}: write every dim (e.g. "b*t"), -1 is not inferred`);
    }
    const a = numel(x.shape), b = numel(shape);
    if (a !== b) throw new ShapeError(`cannot reshape ${formatShape(x.shape)} (${a} elements) to ${formatShape(shape)} (${b} elements)`);
    return [{ shape, dtype: x.dtype }];
  },
  reference([x], { shape }, ctx) {
    const out = shape.map(ctx.dim);
    if (size(out) !== x.data.length) throw new WhetError(`Reshape: [${x.shape}] has ${x.data.length} elements, [${out}] needs ${size(out)}`);
    return [{ shape: out, data: x.data.slice() }];
  },
  onnx(ctx, [x], { shape }, node) {
    const inShape = node.inputs[0].shape;
    if (shape.some((d) => d === 0)) {
      // A literal 0 would mean "copy the input dim" without allowzero.
      ctx.emit("Reshape", [x, ctx.shapeTensor(shape)], { allowzero: { i: 1 } }, { outputs: [ctx.outputName(0)] });
      return;
    }
    // Copy matching symbolic dims (0) and infer one more (-1) so the shape is usually a constant:
    // no Shape/Concat nodes at run time, and the exported graph reads like torch's.
    const tgt: Dim[] = shape.map((d, i) => (typeof d === "string" && inShape[i] === d ? 0 : d));
    const syms = tgt.filter((d) => typeof d === "string");
    if (syms.length === 1) tgt[tgt.indexOf(syms[0])] = -1;
    ctx.emit("Reshape", [x, ctx.shapeTensor(tgt)], {}, { outputs: [ctx.outputName(0)] });
  },
  grad: (node, [dy], needs) => [needs[0] && dy ? reshape(dy, node.inputs[0].shape) : null],
});

/**
 * View `x` with another shape of the same element count; symbolic dims must match as products.
 * @example reshape(x, ["B*T", 32]) // [B, T, 32] -> [B*T, 32]
 */
export function reshape(x: Tensor, shape: readonly Dim[]): Tensor {
  if (shapeEq(x.shape, shape)) return x;
  return apply1(reshapeOp, [x], { shape: [...shape] });
}

/** Insert an axis of length 1 at `axis` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.rank + 1, `unsqueeze ${formatShape(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Remove an axis of length 1. */
export function squeeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.rank, `squeeze ${formatShape(x.shape)}`);
  if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${axis} of ${formatShape(x.shape)} has length ${x.shape[a]}, not 1`);
  return reshape(x, [...x.shape.slice(0, a), ...x.shape.slice(a + 1)]);
}

// ---------------------------------------------------------------------------------------------
// Transpose

export const transposeOp = defineOp<{ perm: number[] }>({
  name: "Transpose",
  infer([x], { perm }) {
    const ok = perm.length === x.rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    if (!ok) throw new ShapeError(`perm [${perm.join(", ")}] is not a permutation of the axes of ${formatShape(x.shape)}`);
    return [{ shape: perm.map((p) => x.shape[p]), dtype: x.dtype }];
  },
  reference([x], { perm }) {
    const out = perm.map((p) => x.shape[p]);
    const st = strides(x.shape);
    const data = new Float64Array(x.data.length);
    for (let k = 0; k < data.length; k++) {
      const idx = unravel(k, out);
      let o = 0;
      for (let d = 0; d < perm.length; d++) o += idx[d] * st[perm[d]];
      data[k] = x.data[o];
    }
    return [{ shape: out, data }];
  },
  onnx: (ctx, ins, { perm }) => void ctx.emit("Transpose", ins, { perm: { ints: perm } }, { outputs: [ctx.outputName(0)] }),
  grad(node, [dy], needs) {
    if (!needs[0] || !dy) return [null];
    const perm: number[] = node.attrs.perm;
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [transpose(dy, inv)];
  },
});

/**
 * Permute axes: result axis i is input axis perm[i].
 * @example transpose(q, [0, 2, 1, 3]) // [B, T, heads, hd] -> [B, heads, T, hd]
 */
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((a) => (a < 0 ? a + x.rank : a));
  if (p.length === x.rank && p.every((a, i) => a === i)) return x;
  return apply1(transposeOp, [x], { perm: p });
}

// ---------------------------------------------------------------------------------------------
// Slice and Pad share one description of the axis: `total` = before + length + after, where a
// slice keeps `length` of `total` and a pad grows `length` to `total`. They are each other's
// gradient with the same window. Dims cannot hold differences ("512 - seq"), so one of before and
// after may be null: whatever is left, computed at run time.

export interface Window {
  axis: number;
  before: Dim | null;
  after: Dim | null;
  length: Dim;
  total: Dim;
}

function checkWindow(w: Window, rank: number, have: Dim, side: "total" | "length", shape: Shape): void {
  if (w.axis < 0 || w.axis >= rank) throw new ShapeError(`axis ${w.axis} is out of range for ${formatShape(shape)}`);
  if (have !== w[side]) throw new ShapeError(`axis ${w.axis} of ${formatShape(shape)} has length ${have}, expected ${w[side]}`);
  if (w.before === null && w.after === null) throw new ShapeError("a window needs before or after");
  const sum = w.before !== null && w.after !== null ? addDims([w.before, w.length, w.after]) : null;
  if (sum !== null && sum !== w.total) throw new ShapeError(`${w.before} + ${w.length} + ${w.after} is not ${w.total}`);
}

/** Concrete before/length/after/total in this run, checked to fit. */
function resolveWindow(w: Window, dim: (d: Dim) => number, op: string): [number, number, number, number] {
  const t = dim(w.total), l = dim(w.length);
  const b = w.before !== null ? dim(w.before) : t - l - dim(w.after!);
  const a = t - l - b;
  if (b < 0 || a < 0 || (w.after !== null && a !== dim(w.after))) {
    throw new WhetError(`${op}: cannot take ${l} elements at offset ${b} on axis ${w.axis} of length ${t} (window ${w.before ?? "?"} + ${w.length} + ${w.after ?? "?"} = ${w.total})`);
  }
  return [b, l, a, t];
}

/** Copy `x` along w.axis from offset `from` (length `n`) into `out` at offset `to`. */
function copyAxis(x: { shape: number[]; data: Float64Array }, out: { shape: number[]; data: Float64Array }, axis: number, from: number, to: number, n: number): void {
  const inner = size(x.shape.slice(axis + 1));
  const outer = size(x.shape.slice(0, axis));
  const xs = x.shape[axis], os = out.shape[axis];
  for (let o = 0; o < outer; o++) {
    const src = (o * xs + from) * inner, dst = (o * os + to) * inner;
    out.data.set(x.data.subarray(src, src + n * inner), dst);
  }
}

function withAxis(shape: Shape, axis: number, d: Dim): Dim[] {
  return shape.map((s, i) => (i === axis ? d : s));
}

export const sliceOp = defineOp<Window>({
  name: "Slice",
  infer([x], w) {
    checkWindow(w, x.rank, x.shape[w.axis], "total", x.shape);
    return [{ shape: withAxis(x.shape, w.axis, w.length), dtype: x.dtype }];
  },
  reference([x], w, ctx) {
    const [b, l] = resolveWindow(w, ctx.dim, "Slice");
    if (x.shape[w.axis] !== ctx.dim(w.total)) throw new WhetError(`Slice: axis ${w.axis} of [${x.shape}] is not ${w.total}`);
    const shape = x.shape.map((s, i) => (i === w.axis ? l : s));
    const out = { shape, data: new Float64Array(size(shape)) };
    copyAxis(x, out, w.axis, b, 0, l);
    return [out];
  },
  onnx(ctx, [x], w) {
    const { before: b, after: a, length: l, total: t } = w;
    const num = (d: Dim | null): d is number => typeof d === "number";
    let start: string, end: string;
    if (b !== null) start = dimSum(ctx, [[1, b]]);
    else if (num(l) && num(a)) start = ctx.constant(ndarray("int64", [1], [-(l + a)]));
    else start = dimSum(ctx, [[1, t], [-1, l], [-1, a!]]);
    if (num(b) && num(l)) end = ctx.constant(ndarray("int64", [1], [b + l]));
    else if (a === 0) end = ctx.constant({ dtype: "int64", shape: [1], data: BigInt64Array.of(INT64_MAX) });
    else if (num(a)) end = ctx.constant(ndarray("int64", [1], [-a]));
    else if (b !== null) end = dimSum(ctx, [[1, b], [1, l]]);
    else end = dimSum(ctx, [[1, t], [-1, a!]]);
    const axes = ctx.constant(ndarray("int64", [1], [w.axis]));
    ctx.emit("Slice", [x, start, end, axes], {}, { outputs: [ctx.outputName(0)] });
  },
  grad: (node, [dy], needs) => [needs[0] && dy ? padWindow(dy, node.attrs) : null],
});

export const padOp = defineOp<Window>({
  name: "Pad",
  infer([x], w) {
    checkWindow(w, x.rank, x.shape[w.axis], "length", x.shape);
    return [{ shape: withAxis(x.shape, w.axis, w.total), dtype: x.dtype }];
  },
  reference([x], w, ctx) {
    const [b, l, , t] = resolveWindow(w, ctx.dim, "Pad");
    if (x.shape[w.axis] !== l) throw new WhetError(`Pad: axis ${w.axis} of [${x.shape}] is not ${w.length}`);
    const shape = x.shape.map((s, i) => (i === w.axis ? t : s));
    const out = { shape, data: new Float64Array(size(shape)) };
    copyAxis(x, out, w.axis, 0, b, l);
    return [out];
  },
  onnx(ctx, [x], w, node) {
    const rank = node.inputs[0].rank;
    const { before: b, after: a, length: l, total: t } = w;
    const before: Dim | [1 | -1, Dim][] = b ?? [[1, t], [-1, l], [-1, a!]];
    const after: Dim | [1 | -1, Dim][] = a ?? [[1, t], [-1, l], [-1, b!]];
    if (typeof before === "number" && typeof after === "number") {
      const pads = new Array<number>(2 * rank).fill(0);
      pads[w.axis] = before;
      pads[rank + w.axis] = after;
      ctx.emit("Pad", [x, ctx.constant(ndarray("int64", [2 * rank], pads))], { mode: { s: "constant" } }, { outputs: [ctx.outputName(0)] });
      return;
    }
    // pads = [0.., before, 0.. (between the begin of axis+1 and the end of axis), after, 0..]
    const zeros = (n: number) => (n > 0 ? [ctx.constant(ndarray("int64", [n], new Array<number>(n).fill(0)))] : []);
    const piece = (p: Dim | [1 | -1, Dim][]) => dimSum(ctx, Array.isArray(p) ? p : [[1, p]]);
    const parts = [...zeros(w.axis), piece(before), ...zeros(rank - 1), piece(after), ...zeros(rank - 1 - w.axis)];
    const pads = ctx.emit("Concat", parts, { axis: { i: 0 } })[0];
    ctx.emit("Pad", [x, pads], { mode: { s: "constant" } }, { outputs: [ctx.outputName(0)] });
  },
  grad: (node, [dy], needs) => [needs[0] && dy ? sliceWindow(dy, node.attrs) : null],
});

/** Slice described by a window (see `Window`); what `slice` and gradients build on. */
export function sliceWindow(x: Tensor, w: Window): Tensor {
  if (w.length === w.total && x.shape[w.axis] === w.total) return x;
  return apply1(sliceOp, [x], { ...w });
}

/** Zero-pad described by a window (see `Window`). */
export function padWindow(x: Tensor, w: Window): Tensor {
  if (w.length === w.total && x.shape[w.axis] === w.length) return x;
  return apply1(padOp, [x], { ...w });
}

type Bound = { fromEnd: boolean; at: Dim };

/** The window of x[start:end] on an axis of length `n` (Python semantics where n is known). */
function windowOf(n: Dim, axis: number, start: number, end: Dim): Window {
  if (typeof n === "number") {
    const s = Math.min(Math.max(start < 0 ? start + n : start, 0), n);
    if (typeof end === "string") {
      if (s !== 0) throw new ShapeError(`a symbolic end (${end}) needs start 0, got ${start}: the length ${end} - ${s} is not a dim`);
      return { axis, before: 0, after: null, length: end, total: n };
    }
    const e = Math.min(Math.max(end < 0 ? end + n : end, s), n);
    return { axis, before: s, after: n - e, length: e - s, total: n };
  }
  // A symbolic axis: each bound counts from the start or from the end; the length must be a dim.
  const bs: Bound = start < 0 ? { fromEnd: true, at: -start } : { fromEnd: false, at: start };
  const be: Bound = end === n ? { fromEnd: true, at: 0 } : typeof end === "number" && end < 0 ? { fromEnd: true, at: -end } : { fromEnd: false, at: end };
  if (!bs.fromEnd && !be.fromEnd && typeof be.at === "number") {
    return { axis, before: start, after: null, length: Math.max(0, be.at - start), total: n };
  }
  if (!bs.fromEnd && !be.fromEnd && start === 0) return { axis, before: 0, after: null, length: be.at, total: n };
  if (bs.fromEnd && be.fromEnd) {
    const after = be.at as number;
    return { axis, before: null, after, length: Math.max(0, (bs.at as number) - after), total: n };
  }
  if (!bs.fromEnd && be.fromEnd && start === 0 && be.at === 0) return { axis, before: 0, after: 0, length: n, total: n };
  throw new ShapeError(`the length of [${start}:${end}] on an axis of length ${n} is not a dim`);
}

/**
 * x[start:end] along `axis`, Python style: negative bounds count from the end; `end` may be a
 * symbol, e.g. the first "seq" rows of a position table; it defaults to the whole axis.
 * On a symbolic axis the length must be known: [0:1], [-1:], [2:5] and [0:"seq"] are fine,
 * [1:] is not (its length "t - 1" is not a dim).
 * @example slice(posTable, 0, 0, "seq") // [512, H] -> [seq, H]
 */
export function slice(x: Tensor, axis: number, start: number, end?: Dim): Tensor {
  const a = normAxis(axis, x.rank, `slice ${formatShape(x.shape)}`);
  let w: Window;
  try {
    w = windowOf(x.shape[a], a, start, end ?? x.shape[a]);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw new ShapeError(`Slice${x.graph.scopeSuffix()}: ${e.message} (axis ${a} of ${x.dtype}${formatShape(x.shape)})`);
  }
  return sliceWindow(x, w);
}

/**
 * Zero-pad `before` and `after` elements around `axis`; the padded length must be a dim.
 * @example pad(x, 1, 0, 3) // [B, 5, H] -> [B, 8, H]
 */
export function pad(x: Tensor, axis: number, before: Dim, after: Dim): Tensor {
  const a = normAxis(axis, x.rank, `pad ${formatShape(x.shape)}`);
  if ([before, after].some((d) => typeof d === "number" && d < 0)) {
    throw new ShapeError(`Pad${x.graph.scopeSuffix()}: negative padding ${before}, ${after} on axis ${a} of ${formatShape(x.shape)} (use slice)`);
  }
  const total = addDims([before, x.shape[a], after]);
  if (total === null) throw new ShapeError(`Pad${x.graph.scopeSuffix()}: ${before} + ${x.shape[a]} + ${after} on axis ${a} of ${formatShape(x.shape)} is not a dim`);
  return padWindow(x, { axis: a, before, after, length: x.shape[a], total });
}

/** Zero-pad `before` elements in front and whatever reaches `total` after (e.g. back to 512). */
export function padTo(x: Tensor, axis: number, before: Dim, total: Dim): Tensor {
  const a = normAxis(axis, x.rank, `padTo ${formatShape(x.shape)}`);
  return padWindow(x, { axis: a, before, after: null, length: x.shape[a], total });
}

// ---------------------------------------------------------------------------------------------
// Concat

export const concatOp = defineOp<{ axis: number; length?: Dim }>({
  name: "Concat",
  infer(xs, { axis, length }) {
    const [x0] = xs;
    for (const x of xs) {
      if (x.dtype !== x0.dtype) throw new ShapeError(`dtypes differ: ${x0.dtype} and ${x.dtype}`);
      const same = x.rank === x0.rank && x.shape.every((d, i) => i === axis || d === x0.shape[i]);
      if (!same) throw new ShapeError(`shapes ${formatShape(x0.shape)} and ${formatShape(x.shape)} differ off axis ${axis}`);
    }
    const total = addDims(xs.map((x) => x.shape[axis])) ?? length ?? null;
    if (total === null) throw new ShapeError(`the concatenated length ${xs.map((x) => x.shape[axis]).join(" + ")} is not a dim: name it (concat's length)`);
    return [{ shape: withAxis(x0.shape, axis, total), dtype: x0.dtype }];
  },
  reference(xs, { axis }) {
    const shape = xs[0].shape.map((s, i) => (i === axis ? xs.reduce((n, x) => n + x.shape[axis], 0) : s));
    const out = { shape, data: new Float64Array(size(shape)) };
    let at = 0;
    for (const x of xs) {
      copyAxis(x, out, axis, 0, at, x.shape[axis]);
      at += x.shape[axis];
    }
    return [out];
  },
  onnx: (ctx, ins, { axis }) => void ctx.emit("Concat", ins, { axis: { i: axis } }, { outputs: [ctx.outputName(0)] }),
  grad(node, [dy], needs) {
    const axis: number = node.attrs.axis;
    const lens = node.inputs.map((x) => x.shape[axis]);
    const total = node.outputs[0].shape[axis];
    return node.inputs.map((_, i) => {
      if (!needs[i] || !dy) return null;
      const before = addDims(lens.slice(0, i)), after = addDims(lens.slice(i + 1));
      return sliceWindow(dy, { axis, before, after, length: lens[i], total });
    });
  },
});

/**
 * Join tensors along `axis`. The joined length must be a dim (numbers, or copies of one symbol)
 * or be named by `length`: a key/value cache of "past" rows plus 1 new row is "kv" rows long.
 * @example concat([a, b], -1) // [B, T, 3] and [B, T, 5] -> [B, T, 8]
 * @example concat([pastKeys, newKeys], 2, "kv") // [B, A, past, d] and [B, A, 1, d] -> [B, A, kv, d]
 */
export function concat(xs: readonly Tensor[], axis: number, length?: Dim): Tensor {
  if (xs.length === 0) throw new ShapeError("Concat: no tensors to concatenate");
  const a = normAxis(axis, xs[0].rank, `concat ${formatShape(xs[0].shape)}`);
  if (xs.length === 1) return xs[0];
  return apply1(concatOp, xs, length === undefined ? { axis: a } : { axis: a, length });
}
