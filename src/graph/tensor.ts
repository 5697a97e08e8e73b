import type { DType } from "../core/dtype.js";
import type { NDArray } from "../core/ndarray.js";
import type { Shape } from "../core/shape.js";
import type { Graph } from "./graph.js";
import type { Node } from "./node.js";
import type { ParamSpec } from "./param.js";

/** Where a tensor's value comes from. */
export type Source =
  | { kind: "input" }                                  // fed per run (batch data, step scalars, dropout masks)
  | { kind: "param"; param: ParamSpec }                // fed per run from buffers whet owns
  | { kind: "const"; value: NDArray }                  // baked into the graph
  | { kind: "node"; node: Node; index: number };       // produced by an op

/** A symbolic tensor: a value in a traced graph, known by shape and dtype only. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly source: Source,
    /** The ONNX value name: inputs and params keep theirs, intermediates get "t<id>". */
    readonly name: string,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}[${this.shape.join(", ")}]`;
  }
}
