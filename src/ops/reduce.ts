import { ONNX_DTYPE, isFloat } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { formatShape, mulDims, type Dim, type Shape } from "../core/shape.js";
import { apply1, defineOp, type LowerCtx, type OpDef, type RefValue } from "../graph/op.js";
import type { Node } from "../graph/node.js";
import type { Tensor } from "../graph/tensor.js";
import { expand } from "./broadcast.js";
import { cast, div, equal, mul } from "./elementwise.js";
import { broadcastStrides, size } from "./ref_util.js";

// Reductions over a set of axes. Attributes hold the axes already normalised (non-negative,
// sorted, distinct) and never empty: the public functions return the input unchanged for an
// empty set, because ONNX ReduceSum reads an empty axes input as "reduce everything".

interface ReduceAttrs {
  axes: readonly number[];
  keepdims: boolean;
}

function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Fold `x` over `axes` with `f`; `finish` maps each accumulator and the group size. */
function reduceRef(x: RefValue, { axes, keepdims }: ReduceAttrs, init: number, f: (acc: number, v: number) => number, finish?: (acc: number, n: number) => number): RefValue {
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const st = broadcastStrides(keep, x.shape);
  const data = new Float64Array(size(keep)).fill(init);
  const idx = new Array<number>(x.shape.length).fill(0);
  for (let k = 0; k < x.data.length; k++) {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d] * st[d];
    data[o] = f(data[o], x.data[k]);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  if (finish) {
    const n = size(axes.map((a) => x.shape[a]));
    for (let i = 0; i < data.length; i++) data[i] = finish(data[i], n);
  }
  return { shape: reducedShape(x.shape, axes, keepdims) as number[], data };
}

function inferReduce(what: string, floatOnly: boolean) {
  return ([x]: readonly Tensor[], { axes, keepdims }: ReduceAttrs) => {
    if (x.dtype === "bool" || (floatOnly && !isFloat(x.dtype))) throw new ShapeError(`${what} does not take ${x.dtype} tensors`);
    return [{ shape: reducedShape(x.shape, axes, keepdims), dtype: x.dtype }];
  };
}

function axesConst(ctx: LowerCtx, axes: readonly number[]): string {
  return ctx.constant(ndarray("int64", [axes.length], axes));
}

/** dy of a reduction, with the reduced axes back as size 1 so it broadcasts against the input. */
function keptGrad(node: Node, dy: Tensor): Tensor {
  const { axes, keepdims } = node.attrs as ReduceAttrs;
  return keepdims ? dy : restoreAxes(dy, axes);
}

export const reduceSumOp: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: "ReduceSum",
  infer: inferReduce("sum", false),
  reference: ([x], attrs) => [reduceRef(x, attrs, 0, (a, v) => a + v)],
  onnx(ctx, [x], { axes, keepdims }) {
    if (axes.length === 0) ctx.emit("Identity", [x], {}, { outputs: [ctx.outputName(0)] });
    else ctx.emit("ReduceSum", [x, axesConst(ctx, axes)], { keepdims: { i: keepdims ? 1 : 0 } }, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    return [needs[0] && dy ? expand(keptGrad(node, dy), node.inputs[0].shape) : null];
  },
});

export const reduceMeanOp: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: "ReduceMean",
  infer: inferReduce("mean", true),
  reference: ([x], attrs) => [reduceRef(x, attrs, 0, (a, v) => a + v, (a, n) => a / n)],
  onnx(ctx, [x], { axes, keepdims }) {
    if (axes.length === 0) ctx.emit("Identity", [x], {}, { outputs: [ctx.outputName(0)] });
    else ctx.emit("ReduceMean", [x], { axes: { ints: axes }, keepdims: { i: keepdims ? 1 : 0 } }, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    if (!needs[0] || !dy) return [null];
    const x = node.inputs[0];
    const count = mulDims((node.attrs as ReduceAttrs).axes.map((a) => x.shape[a]));
    // Scale the small reduced gradient before expanding it; a symbolic count is read at run time.
    const scaled = typeof count === "number" ? mul(dy, 1 / count) : div(dy, apply1(dimCountOp, [dy], { dim: count }));
    return [expand(keptGrad(node, scaled), x.shape)];
  },
});

// The gradient is split equally among tied maxima, as torch.amax does: the rule stays symmetric
// and a tie of k elements gets k equal shares instead of an arbitrary winner.
export const reduceMaxOp: OpDef<ReduceAttrs> = defineOp<ReduceAttrs>({
  name: "ReduceMax",
  infer: inferReduce("max", false),
  reference: ([x], attrs) => [reduceRef(x, attrs, -Infinity, (a, v) => (v > a || Number.isNaN(v) ? v : a))],
  onnx(ctx, [x], { axes, keepdims }) {
    if (axes.length === 0) ctx.emit("Identity", [x], {}, { outputs: [ctx.outputName(0)] });
    else ctx.emit("ReduceMax", [x], { axes: { ints: axes }, keepdims: { i: keepdims ? 1 : 0 } }, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    if (!needs[0] || !dy) return [null];
    const x = node.inputs[0];
    const { axes } = node.attrs as ReduceAttrs;
    const hit = cast(equal(x, keptGrad(node, node.outputs[0])), x.dtype);
    const ties = apply1(reduceSumOp, [hit], { axes, keepdims: true });
    return [mul(hit, div(keptGrad(node, dy), ties))];
  },
});

/**
 * Insert size-1 axes at `axes` (positions in the result), as ONNX Unsqueeze does. It lives here
 * because reduction gradients need it; its adjoint is a sum over those (size-1) axes.
 */
export const restoreAxesOp: OpDef<{ axes: readonly number[] }> = defineOp<{ axes: readonly number[] }>({
  name: "ReduceUnsqueeze",
  infer([x], { axes }) {
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < x.rank + axes.length; i++) out.push(axes.includes(i) ? 1 : x.shape[j++]);
    return [{ shape: out, dtype: x.dtype }];
  },
  reference([x], { axes }) {
    const shape: number[] = [];
    let j = 0;
    for (let i = 0; i < x.shape.length + axes.length; i++) shape.push(axes.includes(i) ? 1 : x.shape[j++]);
    return [{ shape, data: x.data.slice() }];
  },
  onnx(ctx, [x], { axes }) {
    ctx.emit("Unsqueeze", [x, axesConst(ctx, axes)], {}, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    const { axes } = node.attrs as { axes: readonly number[] };
    return [needs[0] && dy ? apply1(reduceSumOp, [dy], { axes, keepdims: false }) : null];
  },
});

/**
 * The run-time value of a (symbolic) dimension as a scalar of `like`'s dtype. `like` only names
 * the graph and the dtype: its value is never read.
 */
const dimCountOp = defineOp<{ dim: Dim }>({
  name: "ReduceCount",
  infer: ([like]) => [{ shape: [], dtype: like.dtype }],
  reference: (_ins, { dim }, ctx) => [{ shape: [], data: Float64Array.of(ctx.dim(dim)) }],
  onnx(ctx, _ins, { dim }, node) {
    const n = ctx.emit("Cast", [ctx.shapeTensor([dim])], { to: { i: ONNX_DTYPE[node.outputs[0].dtype] } })[0];
    ctx.emit("Squeeze", [n], {}, { outputs: [ctx.outputName(0)] });
  },
  grad: () => [null],
});

/** Normalise axes (negative allowed, all when omitted) against `x`, quoting its shape on error. */
function normAxes(what: string, x: Tensor, axes: readonly number[] | undefined): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const out = axes.map((a) => {
    const n = a < 0 ? a + x.rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= x.rank) {
      throw new ShapeError(`${what}: axis ${a} is out of range for ${x.dtype}${formatShape(x.shape)}`);
    }
    return n;
  });
  if (new Set(out).size !== out.length) throw new ShapeError(`${what}: axes [${axes.join(", ")}] repeat an axis of ${x.dtype}${formatShape(x.shape)}`);
  return out.sort((a, b) => a - b);
}

function reduce(op: OpDef<ReduceAttrs>, what: string, x: Tensor, axes: readonly number[] | undefined, keepdims: boolean): Tensor {
  const norm = normAxes(what, x, axes);
  if (norm.length === 0) return x;
  return apply1(op, [x], { axes: norm, keepdims });
}

/**
 * Sum over `axes` (negative counts from the end; every axis when omitted).
 * @example sum(x, [-1], true) // [B, T, H] -> [B, T, 1]
 */
export function sum(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  return reduce(reduceSumOp, "sum", x, axes, keepdims);
}

/** Mean over `axes`; floating-point tensors only. `mean(x)` is the mean of every element. */
export function mean(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  return reduce(reduceMeanOp, "mean", x, axes, keepdims);
}

/** Maximum over `axes`; ties share the gradient equally. */
export function max(x: Tensor, axes?: readonly number[], keepdims = false): Tensor {
  return reduce(reduceMaxOp, "max", x, axes, keepdims);
}

/**
 * Insert size-1 axes at `axes`, positions in the result (negative counts from its end): puts back
 * the axes a reduction without keepdims removed. (layout.ts's `unsqueeze` inserts one axis.)
 * @example restoreAxes(sum(x, [0, 2]), [0, 2]) // [A, B, C] -> [B] -> [1, B, 1]
 */
export function restoreAxes(x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.rank + axes.length;
  const norm = axes.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= rank) throw new ShapeError(`restoreAxes: axis ${a} is out of range for ${x.dtype}${formatShape(x.shape)} (result rank ${rank})`);
    return n;
  });
  if (new Set(norm).size !== norm.length) throw new ShapeError(`restoreAxes: axes [${axes.join(", ")}] repeat an axis`);
  if (norm.length === 0) return x;
  return apply1(restoreAxesOp, [x], { axes: norm.sort((a, b) => a - b) });
}

// Σx² over every element and the sum of equally shaped tensors: the global gradient norm as
// one ReduceSumSquare per parameter and one Sum, instead of Mul, ReduceSum and an Add chain
// (a third of the nodes of a BERT training step).

/** Σ of the squares of every element; a scalar. d/dx = 2x·dy. */
export const sumSquaresOp: OpDef = defineOp({
  name: "SumSquares",
  infer([x]) {
    if (!isFloat(x.dtype)) throw new ShapeError(`sumSquares takes floating-point tensors, got ${x.dtype}`);
    return [{ shape: [], dtype: x.dtype }];
  },
  reference: ([x]) => [{ shape: [], data: Float64Array.of(x.data.reduce((a, v) => a + v * v, 0)) }],
  onnx: (ctx, [x]) => void ctx.emit("ReduceSumSquare", [x], { keepdims: { i: 0 } }, { outputs: [ctx.outputName(0)] }),
  grad(node, [dy], needs) {
    const x = node.inputs[0];
    return [needs[0] && dy ? mul(expand(dy, x.shape), mul(x, 2)) : null];
  },
});

/** Σx² over every element of `x` (a squared L2 norm). @example sumSquares(grad) // [] */
export function sumSquares(x: Tensor): Tensor {
  return apply1(sumSquaresOp, [x], {});
}

/** The elementwise sum of tensors of one shape and dtype (ONNX Sum). dy flows to each input. */
export const sumOfOp: OpDef = defineOp({
  name: "SumOf",
  infer(xs) {
    const [first] = xs;
    for (const x of xs) {
      if (x.dtype !== first.dtype || formatShape(x.shape) !== formatShape(first.shape)) {
        throw new ShapeError(`sumOf needs one shape and dtype, got ${first.dtype}${formatShape(first.shape)} and ${x.dtype}${formatShape(x.shape)}`);
      }
    }
    return [{ shape: first.shape, dtype: first.dtype }];
  },
  reference: (xs) => [{ shape: xs[0].shape, data: Float64Array.from(xs[0].data, (_, i) => xs.reduce((a, x) => a + x.data[i], 0)) }],
  onnx: (ctx, xs) => void ctx.emit("Sum", xs, {}, { outputs: [ctx.outputName(0)] }),
  grad: (node, [dy], needs) => node.inputs.map((_, i) => (needs[i] && dy ? dy : null)),
});

/** a + b + c + … for tensors of one shape, as one node. @example sumOf([sumSquares(g1), sumSquares(g2)]) */
export function sumOf(xs: readonly Tensor[]): Tensor {
  if (xs.length === 0) throw new ShapeError("sumOf needs at least one tensor");
  return xs.length === 1 ? xs[0] : apply1(sumOfOp, [...xs], {});
}
