import { isFloat, type DType } from "../core/dtype.js";
import { ShapeError, WhetError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { formatShape, type Dim } from "../core/shape.js";
import { apply, apply1, defineOp, type LowerCtx, type OpDef, type RefValue } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { emitSumLeading } from "./lower_sum.js";

// Layer normalisation over the last axis, forward and backward side by side (as llm.c writes
// them). The forward op also outputs the per-row mean and inverse standard deviation, which ONNX
// LayerNormalization computes anyway, so the backward never recomputes them. The backward is one
// op whose lowering is a short chain of standard nodes: ORT's CPU build has no
// LayerNormalizationGrad, and this runs in every layer, so node count matters.

interface LnAttrs {
  eps: number;
}

/** Which of dx, dweight, dbias a LayerNormGrad node must produce (the others are never read). */
interface LnGradAttrs {
  need: readonly [boolean, boolean, boolean];
}

/** Row count and width of a [..., H] reference value. */
function rows(x: RefValue): [number, number] {
  const h = x.shape[x.shape.length - 1];
  return [h === 0 ? 0 : x.data.length / h, h];
}

export const layerNormOp: OpDef<LnAttrs> = defineOp<LnAttrs>({
  name: "LayerNorm",
  infer([x, w, b]) {
    if (!isFloat(x.dtype)) throw new ShapeError(`expected a floating-point input, got ${x.dtype}`);
    if (x.rank === 0) throw new ShapeError("the input has no axis to normalise");
    const h = x.shape[x.rank - 1];
    for (const [what, p] of [["weight", w], ["bias", b]] as const) {
      if (p.rank !== 1 || p.shape[0] !== h) {
        throw new ShapeError(`${what} ${formatShape(p.shape)} does not match the last axis of the input ${formatShape(x.shape)}: expected [${h}]`);
      }
      if (p.dtype !== x.dtype) throw new ShapeError(`${what} is ${p.dtype}, the input ${x.dtype}`);
    }
    const stat: Dim[] = [...x.shape.slice(0, -1), 1];
    return [{ shape: x.shape, dtype: x.dtype }, { shape: stat, dtype: x.dtype }, { shape: stat, dtype: x.dtype }];
  },
  reference([x, w, b], { eps }) {
    const [n, h] = rows(x);
    const y = new Float64Array(x.data.length), mean = new Float64Array(n), rstd = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const row = x.data.subarray(r * h, (r + 1) * h);
      let m = 0;
      for (let j = 0; j < h; j++) m += row[j];
      m /= h;
      let v = 0;
      for (let j = 0; j < h; j++) v += (row[j] - m) ** 2;
      const s = 1 / Math.sqrt(v / h + eps); // biased variance, as torch and ONNX use
      for (let j = 0; j < h; j++) y[r * h + j] = (row[j] - m) * s * w.data[j] + b.data[j];
      mean[r] = m;
      rstd[r] = s;
    }
    const stat = [...x.shape.slice(0, -1), 1];
    return [{ shape: x.shape, data: y }, { shape: stat, data: mean }, { shape: stat, data: rstd }];
  },
  onnx(ctx, ins, { eps }) {
    const outputs = [0, 1, 2].map((i) => ctx.outputName(i));
    ctx.emit("LayerNormalization", ins, { axis: { i: -1 }, epsilon: { f: eps } }, { outputs });
  },
  grad(node, [dy, dMean, dRstd], needs) {
    if (dMean || dRstd) throw new WhetError("LayerNorm: its mean and inverse-std outputs are internal and take no gradient");
    if (!dy || !needs.some(Boolean)) return [null, null, null];
    const [x, w] = node.inputs;
    const [, mean, rstd] = node.outputs;
    const need = [needs[0], needs[1], needs[2]] as const;
    const [dx, dw, db] = apply(layerNormGradOp, [dy, x, w, mean, rstd], { need });
    return [need[0] ? dx : null, need[1] ? dw : null, need[2] ? db : null];
  },
});

/**
 * Backward of LayerNorm from the saved statistics. With xhat = (x - mean) * rstd and g = dy * w:
 *   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))   (means over the last axis)
 *   dweight = Σ_rows dy * xhat,   dbias = Σ_rows dy
 */
export const layerNormGradOp: OpDef<LnGradAttrs> = defineOp<LnGradAttrs>({
  name: "LayerNormGrad",
  infer([dy, x, w]) {
    return [{ shape: x.shape, dtype: dy.dtype }, { shape: w.shape, dtype: dy.dtype }, { shape: w.shape, dtype: dy.dtype }];
  },
  reference([dy, x, w, mean, rstd]) {
    const [n, h] = rows(x);
    const dx = new Float64Array(x.data.length), dw = new Float64Array(h), db = new Float64Array(h);
    const xhat = new Float64Array(h), g = new Float64Array(h);
    for (let r = 0; r < n; r++) {
      let m1 = 0, m2 = 0;
      for (let j = 0; j < h; j++) {
        const k = r * h + j;
        xhat[j] = (x.data[k] - mean.data[r]) * rstd.data[r];
        g[j] = dy.data[k] * w.data[j];
        m1 += g[j] / h;
        m2 += (g[j] * xhat[j]) / h;
        dw[j] += dy.data[k] * xhat[j];
        db[j] += dy.data[k];
      }
      for (let j = 0; j < h; j++) dx[r * h + j] = rstd.data[r] * (g[j] - m1 - xhat[j] * m2);
    }
    return [{ shape: x.shape, data: dx }, { shape: w.shape, data: dw }, { shape: w.shape, data: db }];
  },
  onnx(ctx, [dy, x, w, mean, rstd], { need }, node) {
    const e = (op: string, ins: string[], attrs = {}) => ctx.emit(op, ins, attrs)[0];
    const last = { axes: { ints: [-1] }, keepdims: { i: 1 } };
    const { shape, dtype } = node.inputs[1];
    const xhat = need[0] || need[1] ? e("Mul", [e("Sub", [x, mean]), rstd]) : "";
    const dyXhat = need[0] || need[1] ? e("Mul", [dy, xhat]) : "";
    if (need[0]) {
      const h = node.inputs[2].shape[0];
      const g = e("Mul", [dy, w]);
      const m1 = e("ReduceMean", [g], last);
      // mean(g·x̂) = (dy·x̂)·w / H: a product with w as a column reuses dy·x̂ (dweight's too)
      // instead of another [.., H] Mul and a ReduceMean.
      const m2 = typeof h === "number"
        ? e("Div", [e("MatMul", [dyXhat, e("Reshape", [w, ctx.shapeTensor([h, 1])])]), ctx.constant(ndarray(dtype, [], [h]))])
        : e("ReduceMean", [e("Mul", [g, xhat])], last);
      const inner = e("Sub", [e("Sub", [g, m1]), e("Mul", [xhat, m2])]);
      ctx.emit("Mul", [inner, rstd], {}, { outputs: [ctx.outputName(0)] });
    }
    if (need[1]) sumRows(ctx, dyXhat, shape, dtype, ctx.outputName(1));
    if (need[2]) sumRows(ctx, dy, shape, dtype, ctx.outputName(2));
  },
});

/** Sum a [..., H] value over its leading axes into `out` (rank 1 has none). */
function sumRows(ctx: LowerCtx, v: string, shape: readonly Dim[], dtype: DType, out: string): void {
  if (shape.length === 1) ctx.emit("Identity", [v], {}, { outputs: [out] });
  else emitSumLeading(ctx, v, shape, shape.length - 1, [shape[shape.length - 1]], out, dtype);
}

/**
 * Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * weight + bias, with
 * weight and bias of shape [H] and the biased variance (torch.nn.LayerNorm's definition).
 * @example layerNorm(hidden, ln.weight, ln.bias, 1e-12) // [B, T, H] -> [B, T, H]
 */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return apply1(layerNormOp, [x, weight, bias], { eps });
}
