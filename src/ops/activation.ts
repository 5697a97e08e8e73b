import { isFloat } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { broadcastShapes } from "../core/shape.js";
import { apply1, defineOp, type OpDef } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { erf, mapBroadcast } from "./ref_util.js";

// GELU in its exact erf form (BERT's "gelu", torch's default), forward and backward together.
// The forward lowers to com.microsoft Gelu, which ONNX Runtime's CPU build implements (opset 17
// has no Gelu); the backward is its own op with a compact standard-op lowering, because the CPU
// build has no GeluGrad kernel.

const SQRT1_2 = Math.SQRT1_2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

const geluRef = (x: number) => 0.5 * x * (1 + erf(x * SQRT1_2));
/** d gelu / dx = Φ(x) + x·φ(x); with a = x/√2 that is 0.5·(1 + erf(a) + (2/√π)·a·e^{-a²}). */
const geluDeriv = (x: number) => {
  const a = x * SQRT1_2;
  return 0.5 * (1 + erf(a) + TWO_OVER_SQRT_PI * a * Math.exp(-a * a));
};

export const geluOp: OpDef = defineOp({
  name: "Gelu",
  infer([x]) {
    if (!isFloat(x.dtype)) throw new ShapeError(`expected a floating-point tensor, got ${x.dtype}`);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  reference: (ins) => [mapBroadcast(ins, geluRef)],
  onnx: (ctx, ins) => void ctx.emit("Gelu", ins, {}, { outputs: [ctx.outputName(0)], domain: "com.microsoft" }),
  grad: (node, [dy], needs) => [needs[0] && dy ? apply1(geluGradOp, [dy, node.inputs[0]], {}) : null],
});

/** dx = dy · gelu'(x). Gelu's rule passes dy with x's shape; other shapes broadcast. */
export const geluGradOp: OpDef = defineOp({
  name: "GeluGrad",
  infer([dy, x]) {
    if (dy.dtype !== x.dtype) throw new ShapeError(`dtypes differ: ${dy.dtype} and ${x.dtype}`);
    return [{ shape: broadcastShapes(dy.shape, x.shape), dtype: x.dtype }];
  },
  reference: (ins) => [mapBroadcast(ins, (dy, x) => dy * geluDeriv(x))],
  // 10 nodes: 0.5·dy · (1 + erf(a) + (2/√π)·a·exp(-a²)), a = x/√2. The constant 2/√π rides in
  // the exponent (exp(ln(2/√π) - a²)), which saves a node over the [B, T, 4H] activation.
  onnx(ctx, [dy, x], _attrs, node) {
    const dtype = node.inputs[1].dtype;
    const c = (v: number) => ctx.constant(ndarray(dtype, [], [v]));
    const e = (op: string, ...ins: string[]) => ctx.emit(op, ins)[0];
    const a = e("Mul", x, c(SQRT1_2));
    const bump = e("Mul", a, e("Exp", e("Sub", c(Math.log(TWO_OVER_SQRT_PI)), e("Mul", a, a))));
    const inner = e("Add", e("Add", e("Erf", a), bump), c(1));
    ctx.emit("Mul", [e("Mul", dy, c(0.5)), inner], {}, { outputs: [ctx.outputName(0)] });
  },
});

/**
 * GELU, exact form: 0.5·x·(1 + erf(x/√2)) (torch.nn.functional.gelu with approximate="none").
 * @example gelu(matmul(h, w1)) // [B, T, 4H] -> [B, T, 4H]
 */
export function gelu(x: Tensor): Tensor {
  return apply1(geluOp, [x], {});
}
