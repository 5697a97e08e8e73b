import { isFloat } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { formatShape, shapeEq } from "../core/shape.js";
import { apply1, defineOp, type OpDef, type RefValue } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { exp, mul, mulOp, sub } from "./elementwise.js";
import { sum } from "./reduce.js";
import { strides } from "./ref_util.js";

// Softmax and log-softmax along one axis. Their backward passes are composed from elementwise
// ops and one ReduceSum each: ONNX Runtime's CPU build has no SoftmaxGrad kernel.

interface AxisAttrs {
  axis: number;
}

/**
 * Visit every 1-D lane along `axis`: `fn(offset, stride, n)` reads x[offset + k*stride], k < n.
 * Max-subtraction inside the kernels keeps exp() from overflowing on large logits.
 */
function lanes(x: RefValue, axis: number, fn: (off: number, st: number, n: number) => void): void {
  const n = x.shape[axis];
  const st = strides(x.shape)[axis];
  const outer = x.data.length / Math.max(1, n * st);
  for (let o = 0; o < outer; o++) for (let i = 0; i < st; i++) fn(o * n * st + i, st, n);
}

function softmaxRef(x: RefValue, axis: number, logOut: boolean): RefValue {
  const out = new Float64Array(x.data.length);
  lanes(x, axis, (off, st, n) => {
    let m = -Infinity;
    for (let k = 0; k < n; k++) m = Math.max(m, x.data[off + k * st]);
    let z = 0;
    for (let k = 0; k < n; k++) z += Math.exp(x.data[off + k * st] - m);
    const lz = Math.log(z);
    for (let k = 0; k < n; k++) {
      const v = x.data[off + k * st] - m;
      out[off + k * st] = logOut ? v - lz : Math.exp(v) / z;
    }
  });
  return { shape: x.shape, data: out };
}

function inferSoftmax([x]: readonly Tensor[]) {
  if (!isFloat(x.dtype)) throw new ShapeError(`expected a floating-point tensor, got ${x.dtype}`);
  return [{ shape: x.shape, dtype: x.dtype }];
}

export const softmaxOp: OpDef<AxisAttrs> = defineOp<AxisAttrs>({
  name: "Softmax",
  infer: inferSoftmax,
  reference: ([x], { axis }) => [softmaxRef(x, axis, false)],
  onnx: (ctx, ins, { axis }) => void ctx.emit("Softmax", ins, { axis: { i: axis } }, { outputs: [ctx.outputName(0)] }),
  // dx = y * (dy - sum(dy * y, axis)) = t - y * sum(t, axis), t = y * dy
  grad(node, [dy], needs) {
    if (!needs[0] || !dy) return [null];
    const y = node.outputs[0];
    const t = yTimesDy(y, dy);
    return [sub(t, mul(y, sum(t, [node.attrs.axis], true)))];
  },
});

/**
 * y·dy. When the softmax output is scaled by a mask (attention dropout: probs = y·m), its
 * gradient arrives as dy = g·m, and y·dy = probs·g reuses the forward product: g·m is then left
 * unused, one [B, A, T, T] product fewer per attention layer in the backward pass.
 */
function yTimesDy(y: Tensor, dy: Tensor): Tensor {
  const src = dy.source;
  if (src.kind === "node" && src.node.op === mulOp && shapeEq(dy.shape, y.shape)) {
    const [a, b] = src.node.inputs;
    for (const [g, m] of [[a, b], [b, a]]) {
      if (!shapeEq(g.shape, y.shape)) continue;
      const fwd = y.graph.nodes.find((n) => n.op === mulOp && ((n.inputs[0] === y && n.inputs[1] === m) || (n.inputs[0] === m && n.inputs[1] === y)));
      if (fwd && shapeEq(fwd.outputs[0].shape, y.shape)) return mul(fwd.outputs[0], g);
    }
  }
  return mul(dy, y);
}

export const logSoftmaxOp: OpDef<AxisAttrs> = defineOp<AxisAttrs>({
  name: "LogSoftmax",
  infer: inferSoftmax,
  reference: ([x], { axis }) => [softmaxRef(x, axis, true)],
  onnx: (ctx, ins, { axis }) => void ctx.emit("LogSoftmax", ins, { axis: { i: axis } }, { outputs: [ctx.outputName(0)] }),
  // dx = dy - softmax(x) * sum(dy, axis); softmax(x) is exp(y), so x need not be kept.
  grad(node, [dy], needs) {
    if (!needs[0] || !dy) return [null];
    return [sub(dy, mul(exp(node.outputs[0]), sum(dy, [node.attrs.axis], true)))];
  },
});

function normAxis(what: string, x: Tensor, axis: number): number {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.rank) throw new ShapeError(`${what}: axis ${axis} is out of range for ${x.dtype}${formatShape(x.shape)}`);
  return a;
}

/**
 * Softmax along `axis` (default the last).
 * @example softmax(scores) // [B, heads, T, T], each row sums to 1
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return apply1(softmaxOp, [x], { axis: normAxis("softmax", x, axis) });
}

/** log(softmax(x)) along `axis`, computed without forming softmax(x) (no log of 0). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return apply1(logSoftmaxOp, [x], { axis: normAxis("logSoftmax", x, axis) });
}
