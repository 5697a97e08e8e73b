import { ShapeError } from "../core/errors.js";
import { broadcastShapes, formatShape, mulDims, shapeEq, type Dim } from "../core/shape.js";
import { apply1, defineOp } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { sumTo } from "./broadcast.js";
import { reshape } from "./layout.js";
import { broadcastShape, broadcastStrides, size, unravel } from "./ref_util.js";

interface MatMulAttrs {
  transA: boolean;
  transB: boolean;
}

/** The [rows, cols] of an operand's last two axes after its optional transpose. */
function mat(shape: readonly Dim[], trans: boolean): [Dim, Dim] {
  const r = shape[shape.length - 2], c = shape[shape.length - 1];
  return trans ? [c, r] : [r, c];
}

/**
 * Batched matrix product op(a) @ op(b) with numpy batch broadcasting. Transposed operands lower to
 * com.microsoft FusedMatMul, so no Transpose node copies a weight or an activation.
 */
export const matmulOp = defineOp<MatMulAttrs>({
  name: "MatMul",
  infer([a, b], { transA, transB }) {
    if (a.rank < 2 || b.rank < 2) throw new ShapeError(`operands need rank >= 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
    if (a.dtype !== b.dtype) throw new ShapeError(`dtypes differ: ${a.dtype} and ${b.dtype}`);
    const [m, k1] = mat(a.shape, transA), [k2, n] = mat(b.shape, transB);
    if (k1 !== k2) {
      throw new ShapeError(`inner dimensions differ: ${formatShape(a.shape)}${transA ? "ᵀ" : ""} @ ${formatShape(b.shape)}${transB ? "ᵀ" : ""} (${k1} vs ${k2})`);
    }
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul batch");
    return [{ shape: [...batch, m, n], dtype: a.dtype }];
  },
  reference([a, b], { transA, transB }) {
    const [m, k] = mat(a.shape, transA) as [number, number];
    const n = mat(b.shape, transB)[1] as number;
    const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const sa = broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * a.shape.at(-1)! * a.shape.at(-2)!);
    const sb = broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * b.shape.at(-1)! * b.shape.at(-2)!);
    const ca = a.shape.at(-1)!, cb = b.shape.at(-1)!;
    const out = new Float64Array(size(batch) * m * n);
    for (let q = 0; q < size(batch); q++) {
      const idx = unravel(q, batch);
      const oa = idx.reduce((s, v, d) => s + v * sa[d], 0), ob = idx.reduce((s, v, d) => s + v * sb[d], 0);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) {
            const av = transA ? a.data[oa + p * ca + i] : a.data[oa + i * ca + p];
            const bv = transB ? b.data[ob + j * cb + p] : b.data[ob + p * cb + j];
            acc += av * bv;
          }
          out[q * m * n + i * n + j] = acc;
        }
      }
    }
    return [{ shape: [...batch, m, n], data: out }];
  },
  onnx(ctx, ins, { transA, transB }, node) {
    const attrs = { transA: { i: transA ? 1 : 0 }, transB: { i: transB ? 1 : 0 }, alpha: { f: 1 } };
    const [a, b] = node.inputs;
    if (!transA && !transB) ctx.emit("MatMul", ins, {}, { outputs: [ctx.outputName(0)] });
    else if (transB && !transA && a.rank > 2 && b.rank === 2 && a.graph.training) {
      // x @ Wᵀ with a batched x (every Linear layer): ONNX Runtime folds the batch axes into the
      // rows for MatMul, but runs FusedMatMul with a transposed B as one small product per batch
      // entry, packing W again for each (BERT-mini's [32,128,256] @ [256,256]ᵀ: ~2.3 vs ~1.7 ms).
      // As one 2-D product the rows are folded here; the reshapes move no data. Training graphs
      // only: inference showed no gain, and the exported graph keeps the form int8 quantization
      // reads (products of one activation share its quantization).
      const k = a.shape[a.rank - 1];
      const flat = ctx.emit("Reshape", [ins[0], ctx.shapeTensor([mulDims(a.shape.slice(0, -1)), k])])[0];
      const y = ctx.emit("FusedMatMul", [flat, ins[1]], attrs, { domain: "com.microsoft" })[0];
      ctx.emit("Reshape", [y, ctx.shapeTensor(node.outputs[0].shape)], {}, { outputs: [ctx.outputName(0)] });
    } else ctx.emit("FusedMatMul", ins, attrs, { outputs: [ctx.outputName(0)], domain: "com.microsoft" });
  },
  grad(node, [dy], needs) {
    if (!dy) return [null, null];
    const [a, b] = node.inputs;
    const { transA, transB } = node.attrs as MatMulAttrs;
    // Y = A'B' with A' = op(A), B' = op(B): dA' = dY B'ᵀ and dB' = A'ᵀ dY, transposed back where op transposed.
    const da = !needs[0] ? null : transA ? matmul(b, dy, transB, true) : matmul(dy, b, false, !transB);
    let db: Tensor | null = null;
    if (needs[1] && b.rank === 2 && a.rank > 2 && !transA && shapeEq(a.shape.slice(0, -1), dy.shape.slice(0, -1))) {
      // A weight shared across the batch: one [K, rows] @ [rows, N] product instead of a batched
      // product and a sum over the batch — the shape of every Linear layer's weight gradient.
      const rows = mulDims(a.shape.slice(0, -1));
      const a2 = reshape(a, [rows, a.shape[a.rank - 1]]), dy2 = reshape(dy, [rows, dy.shape[dy.rank - 1]]);
      db = transB ? matmul(dy2, a2, true, false) : matmul(a2, dy2, true, false);
    } else if (needs[1]) db = transB ? matmul(dy, a, true, transA) : matmul(a, dy, !transA, false);
    return [da && sumTo(da, a.shape), db && sumTo(db, b.shape)];
  },
});

/** op(a) @ op(b), where op transposes the last two axes when asked. */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  return apply1(matmulOp, [a, b], { transA, transB });
}
