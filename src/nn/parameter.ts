import type { Shape } from "../core/shape.js";
import { currentGraph } from "../graph/graph.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";

/** How a parameter is drawn when a model is built without weights (as transformers' _init_weights). */
export type Init = { kind: "normal"; std: number; zeroRow?: number } | { kind: "zeros" } | { kind: "ones" };

/**
 * A trainable buffer. Its name is the dotted checkpoint key, completed as modules are registered
 * under their parents, so state-dict keys are the safetensors keys with no mapping table.
 */
export class Parameter implements ParamSpec {
  name: string;
  data: Float32Array;
  requiresGrad = true;

  constructor(localName: string, readonly shape: readonly number[], readonly init: Init, readonly noDecay: boolean) {
    this.name = localName;
    this.data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  }

  get size(): number {
    return this.data.length;
  }

  /** The parameter as a tensor of the graph being traced. */
  t(): Tensor {
    return currentGraph().param(this);
  }

  get dims(): Shape {
    return this.shape;
  }
}
