import { WhetError } from "../core/errors.js";
import { toFloat64, type NDArray } from "../core/ndarray.js";
import { bindShape, resolveDim } from "../core/shape.js";
import type { Graph } from "../graph/graph.js";
import type { RefCtx, RefValue } from "../graph/op.js";
import type { Tensor } from "../graph/tensor.js";
import { liveNodes } from "./lower.js";

/**
 * The float64 reference interpreter: runs a traced graph with each op's readable reference
 * kernel. It defines what every op means; compiled graphs are tested against it.
 * Parameters are read from their buffers unless `feeds` names them.
 */
export function evaluate(graph: Graph, outputs: readonly Tensor[], feeds: Record<string, NDArray>): RefValue[] {
  const env = new Map<string, number>();
  const values = new Map<number, RefValue>();
  const leaf = (t: Tensor): RefValue => {
    const have = values.get(t.id);
    if (have) return have;
    let v: RefValue;
    if (t.source.kind === "const") v = { shape: [...t.source.value.shape], data: toFloat64(t.source.value) };
    else if (t.source.kind === "param" && !(t.name in feeds)) {
      v = { shape: t.shape.map((d) => resolveDim(d, env)), data: Float64Array.from(t.source.param.data) };
    } else {
      const f = feeds[t.name];
      if (!f) throw new WhetError(`evaluate: no value fed for input "${t.name}"`);
      v = { shape: [...f.shape], data: toFloat64(f) };
    }
    values.set(t.id, v);
    return v;
  };
  for (const t of graph.inputs) {
    const f = feeds[t.name];
    if (f) bindShape(t.shape, f.shape, env, `evaluate: input "${t.name}"`);
  }
  const ctx: RefCtx = { dim: (d) => resolveDim(d, env) };
  for (const node of liveNodes(graph, outputs)) {
    const ins = node.inputs.map((t) => (t.source.kind === "node" ? values.get(t.id)! : leaf(t)));
    const outs = node.op.reference(ins, node.attrs, ctx, node);
    node.outputs.forEach((o, i) => values.set(o.id, outs[i]));
  }
  return outputs.map((t) => (t.source.kind === "node" ? values.get(t.id)! : leaf(t)));
}
