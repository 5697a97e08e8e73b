import { WhetError, ShapeError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { formatShape, mulDims, shapeEq, type Dim } from "../core/shape.js";
import { apply1, defineOp, type LowerCtx } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";

// Row gathers and their adjoints, the scatter-adds: embeddings and per-token picks for losses.
// The adjoints use ScatterElements (reduction="add" is opset 16+), which ONNX Runtime's CPU build
// has, so the gradients need no training kernels.

function requireIds(ids: Tensor, what: string): void {
  if (ids.dtype !== "int64") throw new ShapeError(`${what} must be int64, got ${ids.dtype}${formatShape(ids.shape)}`);
}

function checkId(v: number, n: number, pos: number, op: string, what: string): number {
  if (!(Number.isInteger(v) && v >= 0 && v < n)) throw new WhetError(`${op}: ${what} ${v} at flat position ${pos} is outside [0, ${n})`);
  return v;
}

/** Zeros of `dims` made at run time: a [V, H] initializer would store the whole table again. */
function zeros(ctx: LowerCtx, dims: readonly Dim[], dtype: "float32" | "float64"): string {
  return ctx.emit("ConstantOfShape", [ctx.shapeTensor(dims)], { value: { t: ndarray(dtype, [1], [0]) } })[0];
}

function lastAxis(ctx: LowerCtx, name: string, what: "Unsqueeze" | "Squeeze"): string {
  return ctx.emit(what, [name, ctx.constant(ndarray("int64", [1], [-1]))])[0];
}

function scalar(ctx: LowerCtx, v: number): string {
  return ctx.constant(ndarray("int64", [], [v]));
}

function floatType(t: Tensor): "float32" | "float64" {
  return t.dtype === "float64" ? "float64" : "float32";
}

// ---------------------------------------------------------------------------------------------
// Embedding lookup and its adjoint

export const embeddingOp = defineOp({
  name: "Embedding",
  infer([table, ids]) {
    if (table.rank !== 2) throw new ShapeError(`the table must be [rows, features], got ${formatShape(table.shape)}`);
    requireIds(ids, "ids");
    return [{ shape: [...ids.shape, table.shape[1]], dtype: table.dtype }];
  },
  reference([table, ids]) {
    const [v, h] = table.shape;
    const data = new Float64Array(ids.data.length * h);
    ids.data.forEach((id, i) => {
      const r = checkId(id, v, i, "Embedding", "id");
      data.set(table.data.subarray(r * h, (r + 1) * h), i * h);
    });
    return [{ shape: [...ids.shape, h], data }];
  },
  onnx: (ctx, ins) => void ctx.emit("Gather", ins, { axis: { i: 0 } }, { outputs: [ctx.outputName(0)] }),
  grad(node, [dy], needs) {
    const [table, ids] = node.inputs;
    return [needs[0] && dy ? scatterAddRows(dy, ids, table.shape[0]) : null, null];
  },
});

/** out[rows, H] = Σ over positions p with ids[p] = r of updates[p, :]. */
export const scatterAddRowsOp = defineOp<{ rows: Dim }>({
  name: "ScatterAddRows",
  infer([upd, ids], { rows }) {
    requireIds(ids, "ids");
    if (!shapeEq(upd.shape.slice(0, -1), ids.shape) || upd.rank !== ids.rank + 1) {
      throw new ShapeError(`updates ${formatShape(upd.shape)} must be the ids' shape ${formatShape(ids.shape)} plus one feature axis`);
    }
    return [{ shape: [rows, upd.shape[upd.rank - 1]], dtype: upd.dtype }];
  },
  reference([upd, ids], { rows }, ctx) {
    const v = ctx.dim(rows), h = upd.shape[upd.shape.length - 1];
    const data = new Float64Array(v * h);
    ids.data.forEach((id, i) => {
      const r = checkId(id, v, i, "ScatterAddRows", "id");
      for (let j = 0; j < h; j++) data[r * h + j] += upd.data[i * h + j];
    });
    return [{ shape: [v, h], data }];
  },
  onnx(ctx, [upd, ids], { rows }, node) {
    // ScatterND(reduction="add") would be the direct lowering, but ONNX Runtime's CPU kernel
    // splits the updates across intra-op threads without atomics, and rows hit from two threads
    // lose updates (seen with 2 threads under load). A 1-D ScatterElements runs as one loop:
    // flat index id*H + h, each update a scalar.
    const out = node.outputs[0];
    const h = out.shape[1];
    const flat = ctx.constant(ndarray("int64", [1], [-1]));
    const cols = typeof h === "number"
      ? ctx.constant(ndarray("int64", [1, h], Array.from({ length: h }, (_, i) => i)))
      : ctx.emit("Range", [scalar(ctx, 0), ctx.emit("Squeeze", [ctx.shapeTensor([h])])[0], scalar(ctx, 1)])[0];
    const rowStart = ctx.emit("Mul", [lastAxis(ctx, ids, "Unsqueeze"), ctx.shapeTensor([h])])[0];
    const index = ctx.emit("Reshape", [ctx.emit("Add", [rowStart, cols])[0], flat])[0];
    const base = zeros(ctx, [mulDims([rows, h])], floatType(out));
    const values = ctx.emit("Reshape", [upd, flat])[0];
    const sum = ctx.emit("ScatterElements", [base, index, values], { axis: { i: 0 }, reduction: { s: "add" } })[0];
    ctx.emit("Reshape", [sum, ctx.shapeTensor([rows, h])], {}, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    return [needs[0] && dy ? embedding(dy, node.inputs[1]) : null, null];
  },
});

/**
 * Rows of `table` [V, H] picked by int64 `ids` [...]: the result is [..., H].
 * @example embedding(wordEmbeddings, inputIds) // [V, H], [B, T] -> [B, T, H]
 */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  return apply1(embeddingOp, [table, ids], {});
}

/** The adjoint of `embedding`: a [rows, H] sum of `updates` [..., H] by row id. */
export function scatterAddRows(updates: Tensor, ids: Tensor, rows: Dim): Tensor {
  return apply1(scatterAddRowsOp, [updates, ids], { rows });
}

// ---------------------------------------------------------------------------------------------
// One element per row on the last axis, and its adjoint

export const takeAlongOp = defineOp({
  name: "TakeAlong",
  infer([x, idx]) {
    requireIds(idx, "indices");
    if (x.rank !== idx.rank + 1 || !shapeEq(x.shape.slice(0, -1), idx.shape)) {
      throw new ShapeError(`indices ${formatShape(idx.shape)} must be the shape of ${formatShape(x.shape)} without its last axis`);
    }
    return [{ shape: idx.shape, dtype: x.dtype }];
  },
  reference([x, idx]) {
    const c = x.shape[x.shape.length - 1];
    const data = new Float64Array(idx.data.length);
    idx.data.forEach((k, i) => (data[i] = x.data[i * c + checkId(k, c, i, "TakeAlong", "index")]));
    return [{ shape: idx.shape, data }];
  },
  onnx(ctx, [x, idx]) {
    const picked = ctx.emit("GatherElements", [x, lastAxis(ctx, idx, "Unsqueeze")], { axis: { i: -1 } })[0];
    ctx.emit("Squeeze", [picked, ctx.constant(ndarray("int64", [1], [-1]))], {}, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    const [x, idx] = node.inputs;
    return [needs[0] && dy ? scatterAlong(dy, idx, x.shape[x.rank - 1]) : null, null];
  },
});

/** out[..., size] is zero except out[..., idx[...]] = values[...]. */
export const scatterAlongOp = defineOp<{ size: Dim }>({
  name: "ScatterAlong",
  infer([values, idx], { size }) {
    requireIds(idx, "indices");
    if (!shapeEq(values.shape, idx.shape)) throw new ShapeError(`values ${formatShape(values.shape)} and indices ${formatShape(idx.shape)} differ`);
    return [{ shape: [...idx.shape, size], dtype: values.dtype }];
  },
  reference([values, idx], { size }, ctx) {
    const c = ctx.dim(size);
    const data = new Float64Array(idx.data.length * c);
    idx.data.forEach((k, i) => (data[i * c + checkId(k, c, i, "ScatterAlong", "index")] = values.data[i]));
    return [{ shape: [...idx.shape, c], data }];
  },
  onnx(ctx, [values, idx], _attrs, node) {
    const out = node.outputs[0];
    const base = zeros(ctx, out.shape, floatType(out));
    // One index per row, so no two updates collide and no reduction is needed.
    const ins = [base, lastAxis(ctx, idx, "Unsqueeze"), lastAxis(ctx, values, "Unsqueeze")];
    ctx.emit("ScatterElements", ins, { axis: { i: -1 } }, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy], needs) {
    return [needs[0] && dy ? takeAlong(dy, node.inputs[1]) : null, null];
  },
});

/**
 * One element per row of the last axis: out[...] = x[..., idx[...]].
 * @example takeAlong(logProbs, labels) // [B, T, V], [B, T] -> [B, T]
 */
export function takeAlong(x: Tensor, idx: Tensor): Tensor {
  return apply1(takeAlongOp, [x, idx], {});
}

/** The adjoint of `takeAlong`: `values` placed at `idx` in rows of `size` zeros. */
export function scatterAlong(values: Tensor, idx: Tensor, size: Dim): Tensor {
  return apply1(scatterAlongOp, [values, idx], { size });
}
