import { ShapeError } from "../core/errors.js";
import { broadcastShapes, formatShape, shapeEq, type Dim, type Shape } from "../core/shape.js";
import { apply1, defineOp } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { emitSumLeading } from "./lower_sum.js";
import { broadcastStrides, size, unravel } from "./ref_util.js";

// Expand and its adjoint SumTo: every broadcasting op's gradient reduces through SumTo.

export const expandOp = defineOp<{ shape: Shape }>({
  name: "Expand",
  infer([x], { shape }) {
    const out = broadcastShapes(x.shape, shape, "expand");
    if (!shapeEq(out, shape)) throw new ShapeError(`cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}`);
    return [{ shape, dtype: x.dtype }];
  },
  reference([x], { shape }, ctx) {
    const out = shape.map(ctx.dim);
    const st = broadcastStrides(x.shape, out);
    const n = size(out);
    const data = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const idx = unravel(k, out);
      let o = 0;
      for (let d = 0; d < idx.length; d++) o += idx[d] * st[d];
      data[k] = x.data[o];
    }
    return [{ shape: out, data }];
  },
  onnx(ctx, [x], { shape }) {
    ctx.emit("Expand", [x, ctx.shapeTensor(shape)], {}, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    return [needs[0] && dy ? sumTo(dy, node.inputs[0].shape) : null];
  },
});

/** Sum a broadcast value back down to `shape` (the adjoint of Expand). */
export const sumToOp = defineOp<{ shape: Shape }>({
  name: "SumTo",
  infer([x], { shape }) {
    const b = broadcastShapes(shape, x.shape, "sumTo");
    if (!shapeEq(b, x.shape)) throw new ShapeError(`cannot sum ${formatShape(x.shape)} down to ${formatShape(shape)}`);
    return [{ shape, dtype: x.dtype }];
  },
  reference([x], { shape }, ctx) {
    const out = shape.map(ctx.dim);
    const st = broadcastStrides(out, x.shape);
    const data = new Float64Array(size(out));
    for (let k = 0; k < x.data.length; k++) {
      const idx = unravel(k, x.shape);
      let o = 0;
      for (let d = 0; d < idx.length; d++) o += idx[d] * st[d];
      data[o] += x.data[k];
    }
    return [{ shape: out, data }];
  },
  onnx(ctx, [x], { shape }, node) {
    const inShape = node.inputs[0].shape;
    const off = inShape.length - shape.length;
    const axes: number[] = [];
    inShape.forEach((d, i) => {
      if (i < off || (shape[i - off] === 1 && d !== 1)) axes.push(i);
    });
    if (axes.length === 0) {
      ctx.emit("Reshape", [x, ctx.shapeTensor(shape)], {}, { outputs: [ctx.outputName(0)] });
      return;
    }
    if (axes.length < inShape.length && axes.every((a, i) => a === i)) {
      emitSumLeading(ctx, x, inShape, axes.length, shape, ctx.outputName(0), node.inputs[0].dtype);
      return;
    }
    const summed = ctx.emit("ReduceSum", [x, ctx.constant({ dtype: "int64", shape: [axes.length], data: BigInt64Array.from(axes.map(BigInt)) })], { keepdims: { i: 1 } })[0];
    ctx.emit("Reshape", [summed, ctx.shapeTensor(shape)], {}, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    return [needs[0] && dy ? expand(dy, node.inputs[0].shape) : null];
  },
});

export function expand(x: Tensor, shape: readonly Dim[]): Tensor {
  if (shapeEq(x.shape, shape)) return x;
  return apply1(expandOp, [x], { shape: [...shape] });
}

export function sumTo(x: Tensor, shape: readonly Dim[]): Tensor {
  if (shapeEq(x.shape, shape)) return x;
  return apply1(sumToOp, [x], { shape: [...shape] });
}
