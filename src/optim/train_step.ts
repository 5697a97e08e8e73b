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
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  outputs: Record<string, NDArray>;
}

/**
 * The training step — forward, backward, global-norm clipping and AdamW — traced once and
 * compiled into one ONNX Runtime session. Parameters and moments live in Float32Arrays this
 * object owns; each step feeds them without a copy and adopts the updated arrays ORT returns.
 */
export class TrainStep {
  /** Optimizer steps taken (the t of the bias corrections). */
  t = 0;
  readonly m = new Map<string, Float32Array>();
  readonly v = new Map<string, Float32Array>();
  /** Second buffers the next step writes into; swapped with the live ones after each step. */
  private readonly spare = new Map<string, { p: Float32Array; m: Float32Array; v: Float32Array }>();

  private constructor(
    readonly graph: Graph,
    private readonly compiled: CompiledGraph,
    readonly trainable: ParamSpec[],
    readonly groups: ParamGroup[],
    readonly hyper: AdamWHyper,
    readonly seed: number,
    private readonly extraOutputs: string[],
  ) {
    for (const p of trainable) {
      this.m.set(p.name, new Float32Array(p.data.length));
      this.v.set(p.name, new Float32Array(p.data.length));
    }
  }

  static async compile(o: TrainStepOptions): Promise<TrainStep> {
    const hyper: AdamWHyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, ...o.adam };
    const wd = o.weightDecay ?? 0;
    const groups = o.groups ?? [{ weightDecay: wd }, { weightDecay: 0 }];
    const groupOf = o.groupOf ?? ((p: ParamSpec) => (p.noDecay ? 1 : 0));
    const trainable = o.params.filter((p) => p.requiresGrad);
    if (trainable.length === 0) throw new WhetError("training step: no parameter is trainable");

    const g = new Graph();
    g.training = o.dropout ?? true;
    const { graph, outs, extra } = trace(g, () => {
      const ins: Record<string, Tensor> = {};
      for (const d of o.inputs) ins[d.name] = g.input(d.name, d.shape, d.dtype);
      const { loss, outputs = {} } = g.scoped("forward", () => o.forward(ins));
      const ptensors = trainable.map((p) => g.param(p));
      const grads = gradients(loss, ptensors);
      const missing = trainable.filter((_, i) => !grads[i]);
      if (missing.length) throw new WhetError(`training step: the loss does not depend on ${missing.map((p) => p.name).join(", ")}`);
      const clipped = clipByGlobalNorm(grads as Tensor[], o.maxGradNorm === undefined ? 1.0 : o.maxGradNorm);
      const scal = adamwScalarInputs(g);
      const gscal = groups.map((_, k) => groupScalarInputs(g, k));
      const outs: Record<string, Tensor> = { loss, grad_norm: clipped.norm };
      trainable.forEach((p, i) => {
        const m = g.input(`m.${p.name}`, p.shape, "float32"), v = g.input(`v.${p.name}`, p.shape, "float32");
        const k = groupOf(p);
        if (!gscal[k]) throw new WhetError(`training step: parameter ${p.name} is in group ${k}, but only ${groups.length} groups exist`);
        const u = g.scoped(`adamw(${p.name})`, () => adamwUpdate(ptensors[i], clipped.grads[i], m, v, scal, gscal[k]));
        outs[`new.${p.name}`] = u.p;
        outs[`new_m.${p.name}`] = u.m;
        outs[`new_v.${p.name}`] = u.v;
      });
      for (const [k, t] of Object.entries(outputs)) outs[`out.${k}`] = t;
      return { graph: g, outs, extra: Object.keys(outputs) };
    });
    const compiled = await CompiledGraph.compile(graph, outs, { threads: o.threads, name: "train_step" });
    return new TrainStep(graph, compiled, trainable, groups, hyper, o.seed ?? 42, extra);
  }

  /**
   * One optimizer step on `batch` at learning rate `lr`. A NaN or infinite loss throws before any
   * buffer changes, so the state stays that of the last good step.
   */
  async step(batch: Record<string, NDArray>, lr: number): Promise<StepResult> {
    const t = this.t + 1;
    const env = bindSymbols(this.graph, batch);
    const feeds: Record<string, NDArray> = { ...batch, ...maskFeeds(this.graph, env, this.seed, this.t) };
    const sc = adamwScalarValues(this.hyper, t);
    const scalar = (v: number): NDArray => ({ dtype: "float32", shape: [], data: Float32Array.of(v) });
    for (const [k, v] of Object.entries(sc)) feeds[`adamw.${k}`] = scalar(v);
    const bc1 = 1 - Math.pow(this.hyper.beta1, t);
    this.groups.forEach((gr, k) => {
      const glr = lr * (gr.lrScale ?? 1);
      feeds[`adamw.group${k}.decay`] = scalar(1 - glr * gr.weightDecay);
      feeds[`adamw.group${k}.step_size`] = scalar(glr / bc1);
    });
    for (const p of this.trainable) {
      feeds[p.name] = { dtype: "float32", shape: p.shape as number[], data: p.data };
      feeds[`m.${p.name}`] = { dtype: "float32", shape: p.shape as number[], data: this.m.get(p.name)! };
      feeds[`v.${p.name}`] = { dtype: "float32", shape: p.shape as number[], data: this.v.get(p.name)! };
    }
    for (const t of this.graph.params.values()) {
      if (t.source.kind === "param" && !(t.name in feeds)) feeds[t.name] = { dtype: "float32", shape: t.shape as number[], data: t.source.param.data };
    }
    const into: Record<string, NDArray> = {};
    for (const p of this.trainable) {
      let s = this.spare.get(p.name);
      if (!s || s.p.length !== p.data.length) {
        s = { p: new Float32Array(p.data.length), m: new Float32Array(p.data.length), v: new Float32Array(p.data.length) };
        this.spare.set(p.name, s);
      }
      const shape = p.shape as number[];
      into[`new.${p.name}`] = { dtype: "float32", shape, data: s.p };
      into[`new_m.${p.name}`] = { dtype: "float32", shape, data: s.m };
      into[`new_v.${p.name}`] = { dtype: "float32", shape, data: s.v };
    }
    const out = await this.compiled.run(feeds, into);
    const loss = Number(out.loss.data[0]);
    if (!Number.isFinite(loss)) throw new NonFiniteError(`training step ${t}: the loss is ${loss}; parameters were left as they were after step ${t - 1}`);
    for (const p of this.trainable) {
      const s = this.spare.get(p.name)!;
      const old = { p: p.data, m: this.m.get(p.name)!, v: this.v.get(p.name)! };
      p.data = out[`new.${p.name}`].data as Float32Array;
      this.m.set(p.name, out[`new_m.${p.name}`].data as Float32Array);
      this.v.set(p.name, out[`new_v.${p.name}`].data as Float32Array);
      // Recycle the previous step's arrays unless someone else adopted them meanwhile.
      if (p.data === s.p) this.spare.set(p.name, old);
      else this.spare.delete(p.name);
    }
    this.t = t;
    const outputs: Record<string, NDArray> = {};
    for (const k of this.extraOutputs) outputs[k] = out[`out.${k}`];
    return { loss, gradNorm: Number(out.grad_norm.data[0]), outputs };
  }

  async release(): Promise<void> {
    await this.compiled.release();
  }
}
