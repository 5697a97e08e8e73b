import type { DType } from "../core/dtype.js";
import { ShapeError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import type { Dim, Shape } from "../core/shape.js";
import { currentGraph, type Graph } from "./graph.js";
import type { Node } from "./node.js";
import type { Tensor } from "./tensor.js";

/** A value in the float64 reference interpreter: every dtype is held as float64. */
export interface RefValue {
  shape: number[];
  data: Float64Array;
}

export interface OutInfo {
  shape: Shape;
  dtype: DType;
}

/** ONNX attribute values, tagged so ints and floats stay distinct in the protobuf. */
export type OnnxAttr =
  | { i: number }
  | { f: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { s: string }
  | { t: NDArray };

/** What an op's ONNX lowering may emit; implemented by runtime/lower.ts. */
export interface LowerCtx {
  /**
   * Emit a node and return its output names: fresh ones, or `opts.outputs` when given (the op's
   * final node writes `outputName(i)`).
   */
  emit(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>, opts?: EmitOptions): string[];
  /** A constant tensor (initializer); equal constants are shared. */
  constant(value: NDArray): string;
  /** A 1-D int64 tensor of the given dims' runtime values (symbols read from the graph inputs). */
  shapeTensor(dims: readonly Dim[]): string;
  /** The ONNX name an op's output must take (the op's outputs are bound to these names). */
  outputName(index: number): string;
}

export interface EmitOptions {
  outputs?: readonly string[];
  /** Number of fresh outputs when `outputs` is not given (default 1). */
  count?: number;
  domain?: string;
}

export interface RefCtx {
  /** Concrete value of a (possibly symbolic) dimension in this run. */
  dim(d: Dim): number;
}

/**
 * One primitive op: its shape rule, float64 reference kernel, ONNX lowering and gradient rule,
 * kept together so each is read beside the others.
 */
export interface OpDef<A = Record<string, never>> {
  readonly name: string;
  infer(inputs: readonly Tensor[], attrs: A): OutInfo[];
  reference(inputs: RefValue[], attrs: A, ctx: RefCtx, node: Node): RefValue[];
  /** Emit ONNX nodes; the last node(s) must write `ctx.outputName(i)`. Returns nothing. */
  onnx(ctx: LowerCtx, inputs: readonly string[], attrs: A, node: Node): void;
  /**
   * Gradients of the inputs given the outputs' gradients (null: no gradient flows there).
   * `needs[i]` is false where input i needs none: the rule should not build it.
   */
  grad?(node: Node, dOut: readonly (Tensor | null)[], needs: readonly boolean[]): (Tensor | null)[];
}

const registry = new Map<string, OpDef<any>>();

export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new Error(`op "${def.name}" is defined twice`);
  registry.set(def.name, def as OpDef<any>);
  return def;
}

export function registeredOps(): ReadonlyMap<string, OpDef<any>> {
  return registry;
}

/** Trace one application of `op`; shape errors name the op and the module path. */
export function apply<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  const g: Graph = inputs.length > 0 ? inputs[0].graph : currentGraph();
  for (const t of inputs) {
    if (t.graph !== g) throw new ShapeError(`${op.name}${g.scopeSuffix()}: input ${t.name} belongs to another graph`);
  }
  let infos: OutInfo[];
  try {
    infos = op.infer(inputs, attrs);
  } catch (e) {
    if (e instanceof ShapeError) {
      const shapes = inputs.map((t) => `${t.dtype}[${t.shape.join(", ")}]`).join(", ");
      throw new ShapeError(`${op.name}${g.scopeSuffix()}: ${e.message} (inputs ${shapes})`);
    }
    throw e;
  }
  return g.addNode(op, inputs, attrs, infos);
}

export function apply1<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  return apply(op, inputs, attrs)[0];
}
