import type { DType } from "../core/dtype.js";
import { NonFiniteError, WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import type { Dim } from "../core/shape.js";
import { gradients } from "../graph/autodiff.js";
import { Graph, trace } from "../graph/graph.js";
import type { ParamSpec } from "../graph/param.js";
import type { Tensor } from "../graph/tensor.js";
import { bindSymbols, maskFeeds } from "../runtime/masks.js";
import { CompiledGraph } from "../runtime/session.js";
import { adamwScalarInputs, adamwScalarValues, adamwUpdate, groupScalarInputs, type AdamWHyper } from "./adamw.js";
import { clipByGlobalNorm } from "./clip.js";
import { add, mul } from "../ops/elementwise.js";

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

export interface TrainStepOptions {
  inputs: InputDecl[];
  /** Traces the forward pass and returns the scalar loss (and optional extra outputs). */
  forward: (inputs: Record<string, Tensor>) => { loss: Tensor; outputs?: Record<string, Tensor> };
  /** Every parameter of the model; frozen ones (requiresGrad false) get no gradient. */
  params: ParamSpec[];
  /** Which group each trainable parameter belongs to; default: Trainer's decay / no-decay split. */
  groupOf?: (p: ParamSpec) => number;
  groups?: ParamGroup[];
  weightDecay?: number;
  adam?: Partial<AdamWHyper>;
  /** Global-norm clipping; null or 0 turns it off. */
  maxGradNorm?: number | null;
  seed?: number;
  threads?: number;
  /** Trace the training form of dropout (default true); false gives a deterministic step. */
  dropout?: boolean;
  /**
   * Compile for gradient accumulation: `accumulate` adds scale·∇loss of a micro-batch into
   * buffers and `apply` takes the optimizer step on their sum. Otherwise one fused `step`.
   */
  accumulation?: boolean;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  outputs: Record<string, NDArray>;
}

/**
 * The training step — forward, backward, global-norm clipping and AdamW — traced once and
 * compiled into ONNX Runtime sessions. Parameters, moments and gradient accumulators live in
 * Float32Arrays this object owns (parameters in the model's own buffers); each run feeds them
 * without a copy and the updated values are copied back over them once the step is known good.
 */
export class TrainStep {
  /** Optimizer steps taken (the t of the bias corrections). */
  t = 0;
  /** Forward passes taken: with the seed, it keys the dropout masks, so a resumed run repeats. */
  micro = 0;
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();
  /** Accumulated gradients (accumulation mode only). */
  readonly acc = new Map<string, Float32Array>();
  private pendingMicro = 0;
  private readonly maskBuffers = new Map<number, Float32Array | Float64Array>();

  private constructor(
    /** The training graph (the fused step, or the accumulation graph). */
    readonly graph: Graph,
    private readonly main: CompiledGraph,
    private readonly apply: CompiledGraph | null,
    readonly trainable: ParamSpec[],
    readonly groups: ParamGroup[],
    readonly hyper: AdamWHyper,
    readonly seed: number,
    private readonly extraOutputs: string[],
  ) {
    for (const p of trainable) {
      this.m.set(p.name, new Float32Array(p.data.length));
      this.v.set(p.name, new Float32Array(p.data.length));
      if (apply) this.acc.set(p.name, new Float32Array(p.data.length));
    }
  }

  static async compile(o: TrainStepOptions): Promise<TrainStep> {
    const hyper: AdamWHyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, ...o.adam };
    const wd = o.weightDecay ?? 0;
    const groups = o.groups ?? [{ weightDecay: wd }, { weightDecay: 0 }];
    const groupOf = o.groupOf ?? ((p: ParamSpec) => (p.noDecay ? 1 : 0));
    const trainable = o.params.filter((p) => p.requiresGrad);
    if (trainable.length === 0) throw new WhetError("training step: no parameter is trainable");
    trainable.forEach((p) => {
      if (!groups[groupOf(p)]) throw new WhetError(`training step: parameter ${p.name} is in group ${groupOf(p)}, but only ${groups.length} groups exist`);
    });
    const maxNorm = o.maxGradNorm === undefined ? 1.0 : o.maxGradNorm;

    const g = new Graph();
    g.training = o.dropout ?? true;
    const { outs, extra } = trace(g, () => {
      const ins: Record<string, Tensor> = {};
      for (const d of o.inputs) ins[d.name] = g.input(d.name, d.shape, d.dtype);
      const { loss, outputs = {} } = g.scoped("forward", () => o.forward(ins));
      const ptensors = trainable.map((p) => g.param(p));
      // Accumulation weighs each micro-batch by its share of the examples (or tokens) in the step.
      const scaled = o.accumulation ? mul(loss, g.input("loss_scale", [], loss.dtype)) : loss;
      const grads = gradients(scaled, ptensors);
      const missing = trainable.filter((_, i) => !grads[i]);
      if (missing.length) throw new WhetError(`training step: the loss does not depend on ${missing.map((p) => p.name).join(", ")}`);
      const outs: Record<string, Tensor> = { loss };
      if (o.accumulation) {
        trainable.forEach((p, i) => (outs[`new_acc.${p.name}`] = add(g.input(`acc.${p.name}`, p.shape, "float32"), grads[i]!)));
      } else {
        Object.assign(outs, optimizerOutputs(g, trainable, ptensors, grads as Tensor[], groups, groupOf, maxNorm));
      }
      for (const [k, t] of Object.entries(outputs)) outs[`out.${k}`] = t;
      return { outs, extra: Object.keys(outputs) };
    });
    const main = await CompiledGraph.compile(g, outs, { threads: o.threads, name: o.accumulation ? "accumulate" : "train_step", splitOutputsOver: SPLIT_BYTES });
    let apply: CompiledGraph | null = null;
    if (o.accumulation) {
      const ga = new Graph();
      const aouts = trace(ga, () => {
        const ptensors = trainable.map((p) => ga.param(p));
        const grads = trainable.map((p) => ga.input(`grad.${p.name}`, p.shape, "float32"));
        return optimizerOutputs(ga, trainable, ptensors, grads, groups, groupOf, maxNorm);
      });
      apply = await CompiledGraph.compile(ga, aouts, { threads: o.threads, name: "apply", splitOutputsOver: SPLIT_BYTES });
    }
    return new TrainStep(g, main, apply, trainable, groups, hyper, o.seed ?? 42, extra);
  }

  /**
   * One optimizer step on `batch` at learning rate `lr`. A NaN or infinite loss throws before any
   * buffer changes, so the state stays that of the last good step.
   */
  async step(batch: Record<string, NDArray>, lr: number): Promise<StepResult> {
    if (this.apply) throw new WhetError("training step: compiled for accumulation; call accumulate() then applyStep()");
    const t = this.t + 1;
    const feeds = { ...this.forwardFeeds(batch), ...this.optimizerFeeds(lr, t) };
    // The updated values are written over the fed buffers, after the loss is known to be finite.
    const out = await this.main.run(feeds, this.optimizerInto(), (o) => this.checkLoss(o, t));
    const loss = Number(out.loss.data[0]);
    this.t = t;
    this.micro++;
    return { loss, gradNorm: Number(out.grad_norm.data[0]), outputs: this.extras(out) };
  }

  /**
   * Add scale·∇loss of one micro-batch to the gradient buffers; `scale` is the micro-batch's
   * share of the examples (or counted tokens) of the whole optimizer step.
   */
  async accumulate(batch: Record<string, NDArray>, scale: number): Promise<{ loss: number; outputs: Record<string, NDArray> }> {
    if (!this.apply) throw new WhetError("training step: not compiled for accumulation (accumulation: true)");
    const feeds = this.forwardFeeds(batch);
    feeds.loss_scale = { dtype: "float32", shape: [], data: Float32Array.of(scale) };
    const into: Record<string, NDArray> = {};
    for (const p of this.trainable) {
      const a = this.acc.get(p.name)!;
      feeds[`acc.${p.name}`] = f32(p.shape, a);
      into[`new_acc.${p.name}`] = f32(p.shape, a);
    }
    const out = await this.main.run(feeds, into, (o) => this.checkLoss(o, this.t + 1));
    const loss = Number(out.loss.data[0]);
    this.micro++;
    this.pendingMicro++;
    return { loss, outputs: this.extras(out) };
  }

  /** The optimizer step on the accumulated gradients; clears them. */
  async applyStep(lr: number): Promise<{ gradNorm: number }> {
    if (!this.apply) throw new WhetError("training step: not compiled for accumulation (accumulation: true)");
    if (this.pendingMicro === 0) throw new WhetError("training step: applyStep() without any accumulate() since the last step");
    const t = this.t + 1;
    const feeds = this.optimizerFeeds(lr, t);
    for (const p of this.trainable) feeds[`grad.${p.name}`] = f32(p.shape, this.acc.get(p.name)!);
    const out = await this.apply.run(feeds, this.optimizerInto(), (o) => {
      const n = Number(o.grad_norm.data[0]);
      if (!Number.isFinite(n)) throw new NonFiniteError(`training step ${t}: the gradient norm is ${n}; parameters were left as they were after step ${t - 1}`);
    });
    const norm = Number(out.grad_norm.data[0]);
    for (const a of this.acc.values()) a.fill(0);
    this.t = t;
    this.pendingMicro = 0;
    return { gradNorm: norm };
  }

  private forwardFeeds(batch: Record<string, NDArray>): Record<string, NDArray> {
    const env = bindSymbols(this.graph, batch);
    const feeds: Record<string, NDArray> = { ...batch, ...maskFeeds(this.graph, env, this.seed, this.micro, this.maskBuffers) };
    for (const t of this.graph.params.values()) {
      if (t.source.kind === "param") feeds[t.name] = f32(t.shape as number[], t.source.param.data);
    }
    return feeds;
  }

  private optimizerFeeds(lr: number, t: number): Record<string, NDArray> {
    const feeds: Record<string, NDArray> = {};
    const scalar = (v: number): NDArray => ({ dtype: "float32", shape: [], data: Float32Array.of(v) });
    for (const [k, v] of Object.entries(adamwScalarValues(this.hyper, t))) feeds[`adamw.${k}`] = scalar(v);
    const bc1 = 1 - Math.pow(this.hyper.beta1, t);
    this.groups.forEach((gr, k) => {
      const glr = lr * (gr.lrScale ?? 1);
      feeds[`adamw.group${k}.decay`] = scalar(1 - glr * gr.weightDecay);
      feeds[`adamw.group${k}.step_size`] = scalar(glr / bc1);
    });
    for (const p of this.trainable) {
      feeds[p.name] = f32(p.shape, p.data);
      feeds[`m.${p.name}`] = f32(p.shape, this.m.get(p.name)!);
      feeds[`v.${p.name}`] = f32(p.shape, this.v.get(p.name)!);
    }
    return feeds;
  }

  /** The optimizer's outputs land in the buffers they were computed from. */
  private optimizerInto(): Record<string, NDArray> {
    const into: Record<string, NDArray> = {};
    for (const p of this.trainable) {
      into[`new.${p.name}`] = f32(p.shape, p.data);
      into[`new_m.${p.name}`] = f32(p.shape, this.m.get(p.name)!);
      into[`new_v.${p.name}`] = f32(p.shape, this.v.get(p.name)!);
    }
    return into;
  }

  private checkLoss(out: Record<string, NDArray>, t: number): void {
    const loss = Number(out.loss.data[0]);
    if (!Number.isFinite(loss)) throw new NonFiniteError(`training step ${t}: the loss is ${loss}; parameters were left as they were after step ${t - 1}`);
  }

  private extras(out: Record<string, NDArray>): Record<string, NDArray> {
    const outputs: Record<string, NDArray> = {};
    for (const k of this.extraOutputs) outputs[k] = out[`out.${k}`];
    return outputs;
  }

  async release(): Promise<void> {
    await this.main.release();
    await this.apply?.release();
  }
}

/** Parameter-sized outputs above this come back in blocks (see LowerOptions.splitOutputsOver). */
const SPLIT_BYTES = 4 << 20;

function f32(shape: readonly (number | string)[], data: Float32Array): NDArray {
  return { dtype: "float32", shape: shape as number[], data };
}

/** Clipping and the AdamW update of every trainable parameter, as graph outputs. */
function optimizerOutputs(
  g: Graph, trainable: ParamSpec[], ptensors: Tensor[], grads: Tensor[], groups: ParamGroup[], groupOf: (p: ParamSpec) => number, maxNorm: number | null,
): Record<string, Tensor> {
  const clipped = clipByGlobalNorm(grads, maxNorm);
  const scal = adamwScalarInputs(g);
  const gscal = groups.map((_, k) => groupScalarInputs(g, k));
  const outs: Record<string, Tensor> = { grad_norm: clipped.norm };
  trainable.forEach((p, i) => {
    const m = g.input(`m.${p.name}`, p.shape, "float32"), v = g.input(`v.${p.name}`, p.shape, "float32");
    const u = g.scoped(`adamw(${p.name})`, () => adamwUpdate(ptensors[i], clipped.grads[i], m, v, scal, gscal[groupOf(p)]));
    outs[`new.${p.name}`] = u.p;
    outs[`new_m.${p.name}`] = u.m;
    outs[`new_v.${p.name}`] = u.v;
  });
  return outs;
}
