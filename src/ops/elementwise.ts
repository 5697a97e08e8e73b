import { isFloat, type DType } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { broadcastShapes } from "../core/shape.js";
import { currentGraph } from "../graph/graph.js";
import { apply1, defineOp, type OpDef } from "../graph/op.js";
import type { Node } from "../graph/node.js";
import type { Tensor } from "../graph/tensor.js";
import { sumTo } from "./broadcast.js";
import { erf as erfRef, mapBroadcast } from "./ref_util.js";

export type TensorLike = Tensor | number;

const ONNX_TO: Record<DType, number> = { float32: 1, float64: 11, int64: 7, bool: 9 };

/** A scalar constant in the current graph (or `like`'s graph) with `like`'s dtype. */
export function scalar(v: number, dtype: DType = "float32", like?: Tensor): Tensor {
  const g = like ? like.graph : currentGraph();
  return g.constant(ndarray(dtype, [], [v]));
}

function lift(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number") return [scalar(a), scalar(b)];
  if (typeof a === "number") return [scalar(a, (b as Tensor).dtype, b as Tensor), b as Tensor];
  if (typeof b === "number") return [a, scalar(b, a.dtype, a)];
  return [a, b];
}

type BinGrad = (node: Node, dy: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

function binary(name: string, onnx: string, f: (a: number, b: number) => number, grad: BinGrad | null, out?: DType): OpDef {
  return defineOp({
    name,
    infer([a, b]) {
      if (a.dtype !== b.dtype) throw new ShapeError(`dtypes differ: ${a.dtype} and ${b.dtype}`);
      return [{ shape: broadcastShapes(a.shape, b.shape), dtype: out ?? a.dtype }];
    },
    reference: (ins) => [mapBroadcast(ins, f)],
    onnx: (ctx, ins) => void ctx.emit(onnx, ins, {}, { outputs: [ctx.outputName(0)] }),
    grad: grad ? (node, [dy], needs) => (dy ? grad(node, dy, needs) : [null, null]) : undefined,
  });
}

function unary(name: string, onnx: string, f: (a: number) => number, grad: ((node: Node, dy: Tensor) => Tensor) | null): OpDef {
  return defineOp({
    name,
    infer: ([a]) => [{ shape: a.shape, dtype: a.dtype }],
    reference: (ins) => [mapBroadcast(ins, f)],
    onnx: (ctx, ins) => void ctx.emit(onnx, ins, {}, { outputs: [ctx.outputName(0)] }),
    grad: grad ? (node, [dy]) => [dy ? grad(node, dy) : null] : undefined,
  });
}

const A = (n: Node) => n.inputs[0];
const B = (n: Node) => n.inputs[1];
const Y = (n: Node) => n.outputs[0];

export const addOp = binary("Add", "Add", (a, b) => a + b, (n, dy, nd) => [
  nd[0] ? sumTo(dy, A(n).shape) : null,
  nd[1] ? sumTo(dy, B(n).shape) : null,
]);
export const subOp = binary("Sub", "Sub", (a, b) => a - b, (n, dy, nd) => [
  nd[0] ? sumTo(dy, A(n).shape) : null,
  nd[1] ? neg(sumTo(dy, B(n).shape)) : null,
]);
export const mulOp = binary("Mul", "Mul", (a, b) => a * b, (n, dy, nd) => [
  nd[0] ? sumTo(mul(dy, B(n)), A(n).shape) : null,
  nd[1] ? sumTo(mul(dy, A(n)), B(n).shape) : null,
]);
export const divOp = binary("Div", "Div", (a, b) => a / b, (n, dy, nd) => [
  nd[0] ? sumTo(div(dy, B(n)), A(n).shape) : null,
  nd[1] ? neg(sumTo(div(mul(dy, Y(n)), B(n)), B(n).shape)) : null,
]);
export const powOp = binary("Pow", "Pow", (a, b) => Math.pow(a, b), (n, dy, nd) => [
  nd[0] ? sumTo(mul(dy, mul(B(n), pow(A(n), sub(B(n), 1)))), A(n).shape) : null,
  nd[1] ? sumTo(mul(dy, mul(Y(n), log(A(n)))), B(n).shape) : null,
]);
// Ties send the gradient to the first argument, as torch.maximum's subgradient choice does not
// matter for training and a fixed rule keeps results reproducible.
export const maxOp = binary("Max", "Max", (a, b) => Math.max(a, b), (n, dy, nd) => {
  const firstWins = not(less(A(n), B(n)));
  const zero = scalar(0, dy.dtype, dy);
  return [nd[0] ? sumTo(where(firstWins, dy, zero), A(n).shape) : null, nd[1] ? sumTo(where(firstWins, zero, dy), B(n).shape) : null];
});
export const minOp = binary("Min", "Min", (a, b) => Math.min(a, b), (n, dy, nd) => {
  const firstWins = not(greater(A(n), B(n)));
  const zero = scalar(0, dy.dtype, dy);
  return [nd[0] ? sumTo(where(firstWins, dy, zero), A(n).shape) : null, nd[1] ? sumTo(where(firstWins, zero, dy), B(n).shape) : null];
});
export const equalOp = binary("Equal", "Equal", (a, b) => (a === b ? 1 : 0), null, "bool");
export const lessOp = binary("Less", "Less", (a, b) => (a < b ? 1 : 0), null, "bool");
export const greaterOp = binary("Greater", "Greater", (a, b) => (a > b ? 1 : 0), null, "bool");

export const negOp = unary("Neg", "Neg", (a) => -a, (_, dy) => neg(dy));
export const expOp = unary("Exp", "Exp", Math.exp, (n, dy) => mul(dy, Y(n)));
export const logOp = unary("Log", "Log", Math.log, (n, dy) => div(dy, A(n)));
export const sqrtOp = unary("Sqrt", "Sqrt", Math.sqrt, (n, dy) => div(dy, mul(Y(n), 2)));
export const tanhOp = unary("Tanh", "Tanh", Math.tanh, (n, dy) => mul(dy, sub(1, mul(Y(n), Y(n)))));
export const erfOp = unary("Erf", "Erf", erfRef, (n, dy) => mul(dy, mul(exp(neg(mul(A(n), A(n)))), 2 / Math.sqrt(Math.PI))));
export const absOp = unary("Abs", "Abs", Math.abs, (n, dy) => mul(dy, sign(A(n))));
export const signOp = unary("Sign", "Sign", Math.sign, null);
export const sigmoidOp = unary("Sigmoid", "Sigmoid", (a) => 1 / (1 + Math.exp(-a)), (n, dy) => mul(dy, mul(Y(n), sub(1, Y(n)))));
export const reluOp = unary("Relu", "Relu", (a) => Math.max(a, 0), (n, dy) => where(greater(A(n), 0), dy, scalar(0, dy.dtype, dy)));

export const notOp = defineOp({
  name: "Not",
  infer([a]) {
    if (a.dtype !== "bool") throw new ShapeError(`expected a bool tensor, got ${a.dtype}`);
    return [{ shape: a.shape, dtype: "bool" }];
  },
  reference: (ins) => [mapBroadcast(ins, (a) => (a ? 0 : 1))],
  onnx: (ctx, ins) => void ctx.emit("Not", ins, {}, { outputs: [ctx.outputName(0)] }),
});

export const whereOp = defineOp({
  name: "Where",
  infer([c, a, b]) {
    if (c.dtype !== "bool") throw new ShapeError(`the condition must be bool, got ${c.dtype}`);
    if (a.dtype !== b.dtype) throw new ShapeError(`branch dtypes differ: ${a.dtype} and ${b.dtype}`);
    return [{ shape: broadcastShapes(broadcastShapes(c.shape, a.shape), b.shape), dtype: a.dtype }];
  },
  reference: (ins) => [mapBroadcast(ins, (c, a, b) => (c ? a : b))],
  onnx: (ctx, ins) => void ctx.emit("Where", ins, {}, { outputs: [ctx.outputName(0)] }),
  grad(n, [dy], needs) {
    if (!dy) return [null, null, null];
    const zero = scalar(0, dy.dtype, dy);
    return [
      null,
      needs[1] ? sumTo(where(n.inputs[0], dy, zero), n.inputs[1].shape) : null,
      needs[2] ? sumTo(where(n.inputs[0], zero, dy), n.inputs[2].shape) : null,
    ];
  },
});

export const castOp = defineOp<{ to: DType }>({
  name: "Cast",
  infer: ([a], { to }) => [{ shape: a.shape, dtype: to }],
  reference([a], { to }) {
    const f = to === "bool" ? (v: number) => (v !== 0 ? 1 : 0) : to === "int64" ? Math.trunc : to === "float32" ? Math.fround : (v: number) => v;
    return [mapBroadcast([a], f)];
  },
  onnx: (ctx, ins, { to }) => void ctx.emit("Cast", ins, { to: { i: ONNX_TO[to] } }, { outputs: [ctx.outputName(0)] }),
  grad: (n, [dy]) => [dy && isFloat(n.inputs[0].dtype) ? cast(dy, n.inputs[0].dtype) : null],
});

export const add = (a: TensorLike, b: TensorLike): Tensor => apply1(addOp, lift(a, b), {});
export const sub = (a: TensorLike, b: TensorLike): Tensor => apply1(subOp, lift(a, b), {});
export const mul = (a: TensorLike, b: TensorLike): Tensor => apply1(mulOp, lift(a, b), {});
export const div = (a: TensorLike, b: TensorLike): Tensor => apply1(divOp, lift(a, b), {});
export const pow = (a: TensorLike, b: TensorLike): Tensor => apply1(powOp, lift(a, b), {});
export const maximum = (a: TensorLike, b: TensorLike): Tensor => apply1(maxOp, lift(a, b), {});
export const minimum = (a: TensorLike, b: TensorLike): Tensor => apply1(minOp, lift(a, b), {});
export const equal = (a: TensorLike, b: TensorLike): Tensor => apply1(equalOp, lift(a, b), {});
export const less = (a: TensorLike, b: TensorLike): Tensor => apply1(lessOp, lift(a, b), {});
export const greater = (a: TensorLike, b: TensorLike): Tensor => apply1(greaterOp, lift(a, b), {});
export const neg = (a: Tensor): Tensor => apply1(negOp, [a], {});
export const exp = (a: Tensor): Tensor => apply1(expOp, [a], {});
export const log = (a: Tensor): Tensor => apply1(logOp, [a], {});
export const sqrt = (a: Tensor): Tensor => apply1(sqrtOp, [a], {});
export const tanh = (a: Tensor): Tensor => apply1(tanhOp, [a], {});
export const erf = (a: Tensor): Tensor => apply1(erfOp, [a], {});
export const abs = (a: Tensor): Tensor => apply1(absOp, [a], {});
export const sign = (a: Tensor): Tensor => apply1(signOp, [a], {});
export const sigmoid = (a: Tensor): Tensor => apply1(sigmoidOp, [a], {});
export const relu = (a: Tensor): Tensor => apply1(reluOp, [a], {});
export const not = (a: Tensor): Tensor => apply1(notOp, [a], {});
export const cast = (a: Tensor, to: DType): Tensor => (a.dtype === to ? a : apply1(castOp, [a], { to }));

/** Elementwise choice: `cond ? a : b`, numbers taking the other branch's dtype. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = lift(a, b);
  return apply1(whereOp, [cond, x, y], {});
}
