/**
 * `whetml/engine`: the machinery under the models — the graph IR and tracing, automatic
 * differentiation, the op registry, ONNX Runtime sessions and the float64 reference interpreter,
 * modules and parameters, the compiled training step. For writing a new architecture or op;
 * fine-tuning needs only the main entry (`whetml`).
 *
 * @example
 * import { Graph, trace, gradients, ops, evaluateReference } from "whetml/engine";
 * const g = new Graph();
 * const x = g.input("x", [2, 3], "float32");
 * const [dx] = trace(g, () => gradients(ops.sum(ops.mul(x, x), [0, 1]), [x]));   // d/dx Σx² = 2x
 */
export type { NDArray } from "./core/ndarray.js";
export { ndarray } from "./core/ndarray.js";
export { Rng } from "./core/rng.js";
export { Graph, trace } from "./graph/graph.js";
export { gradients } from "./graph/autodiff.js";
export type { Tensor } from "./graph/tensor.js";
export * as ops from "./ops/index.js";
export { CompiledGraph } from "./runtime/session.js";
export { evaluate as evaluateReference } from "./runtime/reference.js";
export { Module } from "./nn/module.js";
export { Parameter } from "./nn/parameter.js";
export { TrainStep, type InputDecl } from "./optim/train_step.js";
export { learningRate } from "./optim/schedule.js";
export { ForwardRunner } from "./models/forward.js";
export { batchInputs, collate } from "./data/collate.js";
