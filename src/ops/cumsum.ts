import { ndarray } from "../core/ndarray.js";
import { normAxis } from "../core/shape.js";
import { apply1, defineOp, type OpDef } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { strides } from "./ref_util.js";

interface CumSumAttrs {
  axis: number;
  reverse: boolean;
}

/** Inclusive running sum along an axis (RoBERTa's position ids count non-padding tokens). */
export const cumsumOp: OpDef<CumSumAttrs> = defineOp<CumSumAttrs>({
  name: "CumSum",
  infer([x], { axis }) {
    normAxis(axis, x.rank, "cumsum");
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  reference([x], { axis, reverse }) {
    const a = normAxis(axis, x.shape.length, "cumsum");
    const st = strides(x.shape)[a], n = x.shape[a];
    const out = new Float64Array(x.data.length);
    for (let base = 0; base < x.data.length; base++) {
      if (Math.floor(base / st) % n !== 0) continue; // visit each line once, from its first element
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const i = base + (reverse ? n - 1 - k : k) * st;
        acc += x.data[i];
        out[i] = acc;
      }
    }
    return [{ shape: x.shape, data: out }];
  },
  onnx(ctx, [x], { axis, reverse }) {
    ctx.emit("CumSum", [x, ctx.constant(ndarray("int64", [], [axis]))], { reverse: { i: reverse ? 1 : 0 } }, { outputs: [ctx.outputName(0)] });
  },
  grad(node, [dy]) {
    const { axis, reverse } = node.attrs as CumSumAttrs;
    return [dy ? apply1(cumsumOp, [dy], { axis, reverse: !reverse }) : null];
  },
});

export function cumsum(x: Tensor, axis: number, reverse = false): Tensor {
  return apply1(cumsumOp, [x], { axis, reverse });
}
