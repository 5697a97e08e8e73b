import type { DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import { mulDims, type Dim } from "../core/shape.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";
import { add, mul } from "../ops/elementwise.js";
import { scatterAddRowsOp } from "../ops/gather.js";
import { reshape } from "../ops/layout.js";
import { CompiledGraph } from "../runtime/session.js";
import { clipByGlobalNorm, squaredNorm } from "./clip.js";

export interface InputDecl {
  name: string;
  shape: Dim[];
  dtype: DType;
}

/** A parameter group: its learning-rate multiplier and weight decay (as torch param_groups). */
export interface ParamGroup {
  weightDecay: number;
  lrScale?: number;
}

/**
 * Parameters that share one group and one AdamW step count, so one set of host scalars (decay,
 * bias corrections) serves them all. Members keep the same step count for as long as the
 * trainable set stays the same: they all step together.
 */
export interface Slot {
  group: number;
  members: ParamSpec[];
}

/** What a program is compiled from (the parts of TrainStepOptions that shape the graphs). */
export interface ProgramSpec {
  inputs: InputDecl[];
  forward: (inputs: Record<string, Tensor>) => { loss: Tensor; outputs?: Record<string, Tensor> };
  groups: ParamGroup[];
  groupOf: (p: ParamSpec) => number;
  maxNorm: number | null;
  threads?: number;
  dropout: boolean;
  accumulation: boolean;
  /** Embedding tables of at least this many values return their gradient as rows (see below). */
  sparseRowsFrom: number;
}

/** The compiled graphs of a training step for one set of trainable parameters. */
export interface StepProgram {
  graph: Graph;
  main: CompiledGraph;
  apply: CompiledGraph | null;
  trainable: ParamSpec[];
  slots: Slot[];
  extraOutputs: string[];
  /** Parameters whose gradient comes back as rows (`grad_rows.<name>`, `grad_ids.<name>`). */
  sparse: Set<string>;
}

/** Parameter-sized outputs above this come back in blocks (see LowerOptions.splitOutputsOver). */
const SPLIT_BYTES = 4 << 20;

/**
 * Split the trainable parameters into slots by (group, AdamW step count). `stepsOf` gives the
 * steps a parameter has taken so far (0 for one never trained).
 */
export function slotsOf(
  trainable: readonly ParamSpec[], groupOf: (p: ParamSpec) => number, stepsOf: (p: ParamSpec) => number,
): Slot[] {
  const byKey = new Map<string, Slot>();
  for (const p of trainable) {
    const key = `${groupOf(p)}:${stepsOf(p)}`;
    const slot = byKey.get(key) ?? { group: groupOf(p), members: [] };
    slot.members.push(p);
    byKey.set(key, slot);
  }
  return [...byKey.values()];
}

/**
 * Trace and compile forward, backward (only what leads to a trainable parameter) and the global
 * gradient norm over the trainable gradients: a frozen parameter costs neither backward nor
 * optimizer work. The graph returns each trainable parameter's gradient (`grad.<name>`), the
 * norm (`grad_norm`) and the clipping factor (`clip_coef`); the AdamW update itself runs in place
 * on the host over the flat buffers (adamw_host.ts), so no parameter-sized value but the gradient
 * leaves ONNX Runtime. Accumulation sums gradients into `acc.<name>` → `new_acc.<name>`, and the
 * `apply` graph computes the norm of the sums.
 */
export async function compileProgram(spec: ProgramSpec, trainable: ParamSpec[], slots: Slot[]): Promise<StepProgram> {
  if (trainable.length === 0) throw new WhetError("training step: no parameter is trainable");
  const g = new Graph();
  g.training = spec.dropout;
  const sparse = new Set<string>();
  const { outs, extra } = trace(g, () => {
    const ins: Record<string, Tensor> = {};
    for (const d of spec.inputs) ins[d.name] = g.input(d.name, d.shape, d.dtype);
    const { loss, outputs = {} } = g.scoped("forward", () => spec.forward(ins));
    const ptensors = trainable.map((p) => g.param(p));
    // Accumulation weighs each micro-batch by its share of the examples (or tokens) in the step.
    const scaled = spec.accumulation ? mul(loss, g.input("loss_scale", [], loss.dtype)) : loss;
    const grads = gradients(scaled, ptensors);
    const missing = trainable.filter((_, i) => !grads[i]);
    if (missing.length) {
      throw new WhetError(`training step: the loss does not depend on ${missing.map((p) => p.name).join(", ")}`);
    }
    const outs: Record<string, Tensor> = { loss };
    if (spec.accumulation) {
      trainable.forEach((p, i) => {
        outs[`new_acc.${p.name}`] = add(g.input(`acc.${p.name}`, p.shape, "float32"), grads[i]!);
      });
    } else {
      const dense: Tensor[] = [];
      trainable.forEach((p, i) => {
        const rows = p.data.length >= spec.sparseRowsFrom ? gradientRows(grads[i]!) : null;
        if (rows) {
          outs[`grad_rows.${p.name}`] = rows.rows;
          outs[`grad_ids.${p.name}`] = rows.ids;
          sparse.add(p.name);
        } else {
          outs[`grad.${p.name}`] = grads[i]!;
          dense.push(grads[i]!);
        }
      });
      // With row gradients the host completes the norm (sparse_rows.ts): the graph gives Σg² of the rest.
      Object.assign(outs, sparse.size ? { grad_sq: squaredNorm(dense) } : normOutputs(dense, spec.maxNorm));
    }
    for (const [k, t] of Object.entries(outputs)) outs[`out.${k}`] = t;
    return { outs, extra: Object.keys(outputs) };
  });
  const name = spec.accumulation ? "accumulate" : "train_step";
  const main = await CompiledGraph.compile(g, outs, { threads: spec.threads, name, splitOutputsOver: SPLIT_BYTES });
  let apply: CompiledGraph | null = null;
  if (spec.accumulation) {
    const ga = new Graph();
    const aouts = trace(ga, () => normOutputs(trainable.map((p) => ga.input(`grad.${p.name}`, p.shape, "float32")), spec.maxNorm));
    apply = await CompiledGraph.compile(ga, aouts, { threads: spec.threads, name: "apply" });
  }
  return { graph: g, main, apply, trainable, slots, extraOutputs: extra, sparse };
}

/**
 * An embedding table's gradient is the scatter-add of the output gradient's rows into a zero
 * table (gather.ts). Returned as those rows and their ids instead, the step skips building and
 * copying out a dense [V, H] gradient that is zero but for the rows of this batch's tokens; the
 * host sums the rows per id and updates the whole table as dense AdamW does (sparse_rows.ts).
 * Null when the gradient is anything else (a table also used elsewhere, as a tied decoder).
 */
function gradientRows(grad: Tensor): { rows: Tensor; ids: Tensor } | null {
  if (grad.source.kind !== "node" || grad.source.node.op !== scatterAddRowsOp) return null;
  const [upd, ids] = grad.source.node.inputs;
  const n = mulDims(ids.shape);
  // [B, T, H] -> [B·T, H] and [B, T] -> [B·T]
  return { rows: reshape(upd, [n, upd.shape[upd.rank - 1]]), ids: reshape(ids, [n]) };
}

/** The global norm (what Trainer logs) and, when clipping, the factor every gradient is scaled by. */
function normOutputs(grads: readonly Tensor[], maxNorm: number | null): Record<string, Tensor> {
  const clipped = clipByGlobalNorm(grads, maxNorm);
  return clipped.coef ? { grad_norm: clipped.norm, clip_coef: clipped.coef } : { grad_norm: clipped.norm };
}
