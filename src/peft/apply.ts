// get_peft_model for LoRA and IA3: freeze the base, wrap the targeted Linear layers, make the
// modules_to_save trainable. Works on the Module tree by checkpoint names, so it needs no model class.
import { WhetError } from "../core/errors.js";
import { Linear } from "../nn/linear.js";
import type { Module } from "../nn/module.js";
import type { Parameter } from "../nn/parameter.js";
import { PeftConfigError, type IA3Settings, type LoraSettings, type PeftSettings, type TargetSpec } from "./config.js";
import { attachIA3, type IA3Hook } from "./ia3.js";
import { attachLora, type LoraHook } from "./lora.js";
import { defaultTargets, describeModules, entryMatches, insideSavedModule, isSavedModule, layerIndex, matchesTarget, patternValue } from "./targets.js";

/** What an adapter needs of a model: its module tree and its config's model_type. */
export interface AdaptableModel extends Module {
  readonly config: { model_type: string };
}

export interface Wrapped {
  path: string;
  linear: Linear;
  hook: LoraHook | IA3Hook;
}

/** A model with an adapter applied: which tensors the adapter file holds, under which keys. */
export interface AppliedAdapter {
  settings: PeftSettings;
  /** modules_to_save with the task's defaults, as PEFT uses them. */
  modulesToSave: string[];
  /** adapter_model.safetensors key -> the parameter it holds, in the model's parameter order. */
  tensors: Map<string, Parameter>;
  wrapped: Wrapped[];
  /** Messages worth printing (target list entries that matched nothing). */
  notes: string[];
  /** File tensors computed from trainable modules rather than stored (prefix_projection's table). */
  derived?: Map<string, { shape: number[]; compute(): Float32Array }>;
}

/** "base_model.model." for tuners that wrap the model (LoRA, IA3); "base_model." for prompt learning. */
export function filePrefix(s: PeftSettings): string {
  return s.peft_type === "LORA" || s.peft_type === "IA3" ? "base_model.model." : "base_model.";
}

export function effectiveModulesToSave(s: PeftSettings): string[] {
  return [...new Set([...s.modules_to_save, ...(s.task_type ? ["classifier", "score"] : [])])];
}

/** Freeze every parameter, then make the modules_to_save copies trainable; returns their tensors by file key. */
export function freezeBase(model: Module, s: PeftSettings, mts: readonly string[]): Map<string, Parameter> {
  for (const p of model.parameters()) p.requiresGrad = false;
  const saved = new Map<string, Parameter>();
  for (const [name, m] of model.namedModules()) {
    if (!isSavedModule(name, mts)) continue;
    for (const [, p] of m.namedParameters()) {
      p.requiresGrad = true;
      saved.set(filePrefix(s) + p.name, p);
    }
  }
  return saved;
}

function targetSpec(model: AdaptableModel, s: LoraSettings | IA3Settings): { spec: TargetSpec; ff: TargetSpec } {
  const d = defaultTargets(model.config.model_type, s.peft_type);
  const spec = s.target_modules ?? d?.targets;
  if (!spec) {
    const linears = model.namedModules().filter(([, m]) => m instanceof Linear).map(([n]) => n);
    throw new PeftConfigError(s.peft_type, "target_modules", `target_modules is required for model_type `
      + `"${model.config.model_type}" (PEFT has no default for it); the model's Linear modules are: ${describeModules(linears)}`);
  }
  const ff = s.peft_type === "IA3" ? (s.feedforward_modules ?? (s.target_modules ? [] : d?.feedforward ?? [])) : [];
  return { spec, ff };
}

/**
 * Apply a LoRA or IA3 adapter to `model` in place, as PEFT's get_peft_model does, drawing fresh
 * adapter weights from `seed`.
 *
 * @example
 * const adapter = applyAdapter(model, parsePeftConfig({ peft_type: "LORA", r: 8, lora_alpha: 16, task_type: "SEQ_CLS" }), 42);
 */
export function applyAdapter(model: AdaptableModel, s: PeftSettings, seed: number): AppliedAdapter {
  if (s.peft_type !== "LORA" && s.peft_type !== "IA3") throw new WhetError(`applyAdapter: ${s.peft_type} is applied by applyPrompt`);
  const mts = effectiveModulesToSave(s);
  const saved = freezeBase(model, s, mts);
  const { spec, ff } = targetSpec(model, s);
  const modules = model.namedModules();
  const wrapped: Wrapped[] = [];
  for (const [name, m] of modules) {
    if (name === "" || insideSavedModule(name, mts) || !matchesTarget(name, spec)) continue;
    if (s.exclude_modules && matchesTarget(name, s.exclude_modules)) continue;
    if (s.peft_type === "LORA" && s.layers_to_transform) {
      const i = layerIndex(name, s.layers_pattern);
      if (i === null || !s.layers_to_transform.includes(i)) continue;
    }
    if (!(m instanceof Linear)) {
      throw new PeftConfigError(s.peft_type, "target_modules", `target module "${name}" is a ${m.constructor.name}; `
        + `whet wraps only Linear layers (the model's Linear modules: ${linearNames(modules)})`);
    }
    wrapped.push({ path: name, linear: m, hook: wrap(m, name, s, ff, seed) });
  }
  if (wrapped.length === 0) {
    throw new PeftConfigError(s.peft_type, "target_modules", `target_modules ${JSON.stringify(spec)} matched no module `
      + `of this model; its Linear modules are: ${linearNames(modules)}`);
  }
  const notes = Array.isArray(spec)
    ? spec.filter((t) => !wrapped.some((w) => entryMatches(w.path, t))).map((t) => `target_modules entry "${t}" matched no module`)
    : [];
  if (Array.isArray(ff)) {
    for (const f of ff) if (!wrapped.some((w) => entryMatches(w.path, f))) notes.push(`feedforward_modules entry "${f}" is not a target module`);
  }
  return { settings: s, modulesToSave: mts, tensors: adapterTensors(model, s, wrapped, saved), wrapped, notes };
}

const linearNames = (modules: [string, Module][]) =>
  describeModules(modules.filter(([, x]) => x instanceof Linear).map(([n]) => n));

function wrap(m: Linear, name: string, s: LoraSettings | IA3Settings, ff: TargetSpec, seed: number): LoraHook | IA3Hook {
  if (s.peft_type === "IA3") return attachIA3(m, name, matchesTarget(name, ff), s.init_ia3_weights, seed);
  const r = patternValue(name, s.rank_pattern) ?? s.r;
  const alpha = patternValue(name, s.alpha_pattern) ?? s.lora_alpha;
  return attachLora(m, name, { r, alpha, dropout: s.lora_dropout, rslora: s.use_rslora, init: s.init_lora_weights, seed });
}

/** The file's tensors in the model's parameter order: adapter weights, trainable biases, saved modules. */
function adapterTensors(model: Module, s: PeftSettings, wrapped: Wrapped[], saved: Map<string, Parameter>): Map<string, Parameter> {
  const prefix = filePrefix(s);
  const adapterParams = new Set<Parameter>();
  for (const w of wrapped) {
    for (const [, p] of w.linear.namedParameters()) if (p !== w.linear.weight && p !== w.linear.bias) adapterParams.add(p);
  }
  // bias "all": every bias trains; "lora_only": the biases of the wrapped layers. A wrapped layer's
  // own weights sit under base_layer in PEFT's state dict.
  const wrappedBias = new Map(wrapped.filter((w) => w.linear.bias).map((w) => [w.linear.bias!, `${w.path}.base_layer.bias`]));
  const bias = s.peft_type === "LORA" ? s.bias : "none";
  const out = new Map<string, Parameter>();
  const savedParams = new Set(saved.values());
  for (const [name, p] of model.namedParameters()) {
    const trainBias = (bias === "all" && /(^|\.)bias$/.test(name)) || (bias === "lora_only" && wrappedBias.has(p));
    if (adapterParams.has(p)) out.set(prefix + name, p);
    else if (savedParams.has(p)) out.set(prefix + name, p);
    else if (trainBias) out.set(prefix + (wrappedBias.get(p) ?? name), p);
    else continue;
    p.requiresGrad = true;
  }
  return out;
}
