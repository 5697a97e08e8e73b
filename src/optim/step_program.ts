import type { DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import type { Dim } from "../core/shape.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";
import { add, mul } from "../ops/elementwise.js";
import { concat, reshape } from "../ops/layout.js";
import { CompiledGraph } from "../runtime/session.js";
import { adamwScalarInputs, adamwUpdate, groupScalarInputs } from "./adamw.js";
import { clipByGlobalNorm } from "./clip.js";
import { sizeOf } from "./flat_layout.js";

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
}

/** The compiled graphs of a training step for one set of trainable parameters. */
export interface StepProgram {
  graph: Graph;
  main: CompiledGraph;
  apply: CompiledGraph | null;
  trainable: ParamSpec[];
  slots: Slot[];
  extraOutputs: string[];
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
 * Trace and compile forward, backward (only what leads to a trainable parameter), clipping over
 * the trainable gradients and AdamW for the trainable parameters alone: a frozen parameter costs
 * neither backward nor optimizer nodes. The optimizer works on each slot's parameters, gradients
 * and moments laid end to end (see FlatLayout): inputs `flat.p.k`, `m.k`, `v.k`, outputs
 * `new_p.k`, `new_m.k`, `new_v.k` per slot k; accumulation sums into `acc.k` → `new_acc.k`.
 */
export async function compileProgram(spec: ProgramSpec, trainable: ParamSpec[], slots: Slot[]): Promise<StepProgram> {
  if (trainable.length === 0) throw new WhetError("training step: no parameter is trainable");
  const g = new Graph();
  g.training = spec.dropout;
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
    const gradOf = new Map(trainable.map((p, i) => [p, grads[i]!]));
    const flatGrads = slots.map((s, k) => g.scoped(`flatten(slot${k})`, () => flatten(s.members.map((p) => gradOf.get(p)!))));
    const outs: Record<string, Tensor> = { loss };
    if (spec.accumulation) {
      flatGrads.forEach((fg, k) => {
        outs[`new_acc.${k}`] = add(g.input(`acc.${k}`, fg.shape, "float32"), fg);
      });
    } else {
      Object.assign(outs, optimizerOutputs(g, slots, flatGrads, spec.maxNorm));
    }
    for (const [k, t] of Object.entries(outputs)) outs[`out.${k}`] = t;
    return { outs, extra: Object.keys(outputs) };
  });
  const name = spec.accumulation ? "accumulate" : "train_step";
  const main = await CompiledGraph.compile(g, outs, { threads: spec.threads, name, splitOutputsOver: SPLIT_BYTES });
  let apply: CompiledGraph | null = null;
  if (spec.accumulation) {
    const ga = new Graph();
    const aouts = trace(ga, () => {
      const grads = slots.map((s, k) => ga.input(`grad.${k}`, [slotSize(s)], "float32"));
      return optimizerOutputs(ga, slots, grads, spec.maxNorm);
    });
    apply = await CompiledGraph.compile(ga, aouts, {
      threads: spec.threads, name: "apply", splitOutputsOver: SPLIT_BYTES,
    });
  }
  return { graph: g, main, apply, trainable, slots, extraOutputs: extra };
}

/** Number of values a slot's flat buffers hold. */
export function slotSize(s: Slot): number {
  return s.members.reduce((n, p) => n + sizeOf(p), 0);
}

/** Tensors (of static shapes) laid end to end: [n1 + n2 + …]. */
function flatten(ts: readonly Tensor[]): Tensor {
  const parts = ts.map((t) => reshape(t, [(t.shape as number[]).reduce((a, b) => a * b, 1)]));
  return concat(parts, 0);
}

/** Clipping over every slot's flat gradient and one AdamW update per slot, as graph outputs. */
function optimizerOutputs(g: Graph, slots: readonly Slot[], grads: readonly Tensor[], maxNorm: number | null): Record<string, Tensor> {
  const clipped = clipByGlobalNorm(grads, maxNorm);
  const scal = adamwScalarInputs(g);
  const outs: Record<string, Tensor> = { grad_norm: clipped.norm };
  slots.forEach((s, k) => {
    const shape = [slotSize(s)];
    const p = g.input(`flat.p.${k}`, shape, "float32");
    const m = g.input(`m.${k}`, shape, "float32"), v = g.input(`v.${k}`, shape, "float32");
    const u = g.scoped(`adamw(slot${k})`, () => adamwUpdate(p, clipped.grads[k], m, v, scal, groupScalarInputs(g, k)));
    outs[`new_p.${k}`] = u.p;
    outs[`new_m.${k}`] = u.m;
    outs[`new_v.${k}`] = u.v;
  });
  return outs;
}
