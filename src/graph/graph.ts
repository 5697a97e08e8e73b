import type { DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import type { Shape } from "../core/shape.js";
import type { Node } from "./node.js";
import type { OpDef, OutInfo } from "./op.js";
import type { ParamSpec } from "./param.js";
import { Tensor } from "./tensor.js";

/** A dropout site: a mask fed per step, drawn from (seed, step, site index) by the runtime. */
export interface MaskSite {
  readonly tensor: Tensor;
  readonly p: number;
  readonly site: number;
}

/**
 * A traced graph. Ops append nodes in execution order, so `nodes` is always topologically sorted.
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly params = new Map<string, Tensor>();
  readonly masks: MaskSite[] = [];
  /** Whether ops that behave differently in training (dropout) trace their training form. */
  training = false;
  private nextId = 0;
  private scopes: string[] = [];

  input(name: string, shape: Shape, dtype: DType): Tensor {
    if (this.inputs.some((t) => t.name === name) || this.params.has(name)) {
      throw new WhetError(`graph input "${name}" is declared twice`);
    }
    const t = new Tensor(this, this.nextId++, shape, dtype, { kind: "input" }, name);
    this.inputs.push(t);
    return t;
  }

  /** The tensor of a parameter; tracing the same parameter twice gives the same tensor. */
  param(p: ParamSpec): Tensor {
    const have = this.params.get(p.name);
    if (have) {
      if (have.source.kind !== "param" || have.source.param !== p) throw new WhetError(`two parameters are named "${p.name}"`);
      return have;
    }
    const t = new Tensor(this, this.nextId++, p.shape, "float32", { kind: "param", param: p }, p.name);
    this.params.set(p.name, t);
    return t;
  }

  constant(value: NDArray): Tensor {
    const id = this.nextId++;
    return new Tensor(this, id, value.shape, value.dtype, { kind: "const", value }, `c${id}`);
  }

  /** A fresh dropout mask input of the given shape, holding 0 or 1/(1-p). */
  mask(shape: Shape, p: number, dtype: DType = "float32"): Tensor {
    const site = this.masks.length;
    const t = this.input(`dropout_mask_${site}`, shape, dtype);
    this.masks.push({ tensor: t, p, site });
    return t;
  }

  addNode(op: OpDef<any>, inputs: readonly Tensor[], attrs: unknown, infos: OutInfo[]): Tensor[] {
    const node: Node = { id: this.nodes.length, op, inputs, attrs, outputs: [], scope: this.scopes.join(".") };
    node.outputs = infos.map((info, index) => {
      const id = this.nextId++;
      return new Tensor(this, id, info.shape, info.dtype, { kind: "node", node, index }, `t${id}`);
    });
    this.nodes.push(node);
    return node.outputs;
  }

  /** Run `fn` with `name` pushed on the module path used in error messages. */
  scoped<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  scopeSuffix(): string {
    return this.scopes.length ? ` in ${this.scopes.join(".")}` : "";
  }
}

let current: Graph | null = null;

/** Trace into `g` while `fn` runs: ops without tensor inputs (constants) land there. */
export function trace<T>(g: Graph, fn: () => T): T {
  const prev = current;
  current = g;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

export function currentGraph(): Graph {
  if (!current) throw new WhetError("no graph is being traced: call ops inside trace(graph, fn)");
  return current;
}
