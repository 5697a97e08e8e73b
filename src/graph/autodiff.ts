import { isFloat } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import { ndarray } from "../core/ndarray.js";
import { shapeEq, formatShape } from "../core/shape.js";
import { apply1, registeredOps } from "./op.js";
import type { Tensor } from "./tensor.js";

/**
 * Reverse-mode differentiation of a scalar `loss` with respect to `wrt`, appending the backward
 * nodes to the same graph. Only nodes that both depend on something in `wrt` and lead to the loss
 * get backward work, so frozen layers below the lowest trainable parameter cost nothing.
 * A tensor used twice gets the sum of its gradients. Returns null where no gradient flows.
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[]): (Tensor | null)[] {
  const g = loss.graph;
  if (loss.shape.length !== 0) throw new WhetError(`gradients: the loss must be a scalar, got ${loss.dtype}${formatShape(loss.shape)}`);
  if (!isFloat(loss.dtype)) throw new WhetError(`gradients: the loss must be floating point, got ${loss.dtype}`);
  const add = registeredOps().get("Add");
  if (!add) throw new WhetError("gradients: the Add op is not registered (import whet's ops first)");

  // Forward: which tensors depend on a differentiated tensor.
  const requires = new Set<number>(wrt.map((t) => t.id));
  for (const node of g.nodes) {
    if (node.inputs.some((t) => requires.has(t.id))) for (const o of node.outputs) if (isFloat(o.dtype)) requires.add(o.id);
  }
  if (!requires.has(loss.id)) return wrt.map(() => null);

  // Backward: accumulate contributions, summing where a tensor is used more than once.
  const parts = new Map<number, Tensor[]>();
  const push = (t: Tensor, d: Tensor) => {
    if (!shapeEq(t.shape, d.shape)) {
      throw new WhetError(`gradients: the gradient of ${t.name} has shape ${formatShape(d.shape)}, expected ${formatShape(t.shape)}`);
    }
    const list = parts.get(t.id);
    if (list) list.push(d);
    else parts.set(t.id, [d]);
  };
  const total = (t: Tensor): Tensor | null => {
    const list = parts.get(t.id);
    if (!list || list.length === 0) return null;
    let sum = list[0];
    for (let i = 1; i < list.length; i++) sum = apply1(add, [sum, list[i]], {});
    parts.set(t.id, [sum]);
    return sum;
  };

  const one = g.constant(ndarray(loss.dtype, [], [1]));
  push(loss, one);
  const lossNode = loss.source.kind === "node" ? loss.source.node.id : -1;
  for (let n = lossNode; n >= 0; n--) {
    const node = g.nodes[n];
    if (!node.outputs.some((o) => parts.has(o.id))) continue;
    const needs = node.inputs.map((t) => requires.has(t.id) && isFloat(t.dtype));
    if (!needs.some(Boolean)) continue;
    if (!node.op.grad) throw new WhetError(`gradients: op ${node.op.name}${node.scope ? ` in ${node.scope}` : ""} has no gradient rule`);
    const dOut = node.outputs.map(total);
    const dIn = g.scoped(`grad(${node.scope || node.op.name})`, () => node.op.grad!(node, dOut, needs));
    node.inputs.forEach((t, i) => {
      const d = dIn[i];
      if (d && needs[i]) push(t, d);
    });
  }
  return wrt.map(total);
}
