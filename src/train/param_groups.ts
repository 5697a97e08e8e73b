/**
 * Fine-tuning strategies as optimizer groups: frozen modules, layer-wise learning-rate decay and
 * free-form groups, resolved against one model's parameter names into the groups torch users
 * write by hand (`AdamW([{params, lr, weight_decay}, …])`).
 *
 * @example
 * const plan = planParamGroups(model, { learningRate: 2e-3, weightDecay: 0.01, layerwiseLrDecay: 0.8,
 *   freeze: ["embeddings"] });
 * plan.groups.map((g) => `${g.name}: lr ${g.lr}, ${g.params.length} tensors`);
 */
import { UsageError } from "../core/errors.js";
import type { ParamSpec } from "../graph/param.js";
import { familyOf, type ModelPart, type TaskModel } from "../models/auto.js";
import type { Module } from "../nn/module.js";
import type { ParamGroup } from "../optim/train_step.js";

/** How deep the encoder is and where each parameter sits (the model registry's partOf). */
export interface ModelLayout {
  numLayers: number;
  partOf: (name: string) => ModelPart;
}

/**
 * The family's own naming (models/registry.ts): BERT, RoBERTa and XLM-R keep layers under
 * `encoder.layer`, DistilBERT under `transformer.layer`; whatever lies outside the embeddings and
 * the layers is the head (pooler, classifier, pre_classifier, the MLM head).
 *
 * @example
 * const { numLayers, partOf } = modelLayout(model);
 * partOf("bert.encoder.layer.3.output.dense.weight"); // { kind: "layer", index: 3 } (or embeddings, head)
 */
export function modelLayout(model: TaskModel): ModelLayout {
  const { partOf } = familyOf(model.config);
  let numLayers = 0;
  for (const [name] of model.namedParameters()) {
    const part = partOf(name);
    if (part.kind === "layer") numLayers = Math.max(numLayers, part.index + 1);
  }
  if (numLayers === 0) throw new UsageError(`cannot find the encoder layers of this ${model.config.model_type} model`);
  return { numLayers, partOf };
}

/** Depth of a parameter for layer-wise rates: 0 for the head, L − i for layer i, L + 1 for the embeddings. */
export function depthOf(name: string, layout: ModelLayout): number {
  const L = layout.numLayers, part = layout.partOf(name);
  return part.kind === "embeddings" ? L + 1 : part.kind === "layer" ? L - part.index : 0;
}

export function depthName(depth: number, layout: ModelLayout): string {
  const L = layout.numLayers;
  return depth === 0 ? "head" : depth === L + 1 ? "embeddings" : `layer ${L - depth}`;
}

const REGEX_CHARS = /[*+?^$()[\]{}|\\]/;

/**
 * The parameters a pattern selects. A plain name matches a module or parameter whose dotted path
 * equals it or ends with "." + it (PEFT's target_modules rule: `embeddings`, `encoder.layer.0`,
 * `layer.0.attention`), and selects everything under it. A pattern with regex characters must
 * match a whole path (`.*layer\.(0|1)\.attention`).
 *
 * @example
 * matchParameters(model, "encoder.layer.0").map((p) => p.name);
 * // ["bert.encoder.layer.0.attention.self.query.weight", …]
 */
export function matchParameters(model: Module, pattern: string): ParamSpec[] {
  let hit: (path: string) => boolean;
  if (REGEX_CHARS.test(pattern)) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch (e) {
      throw new UsageError(`"${pattern}" is not a valid regular expression: ${(e as Error).message}`);
    }
    hit = (path) => re.test(path);
  } else hit = (path) => path === pattern || path.endsWith("." + pattern);
  const paths = [...model.namedModules().map(([n]) => n), ...model.namedParameters().map(([n]) => n)];
  const roots = paths.filter((n) => n && hit(n));
  return model.parameters().filter((p) => roots.some((r) => p.name === r || p.name.startsWith(r + ".")));
}

/** The model's modules for an error message, with layer indices folded (`encoder.layer.{0-11}.output`). */
export function moduleList(model: Module): string {
  const names = model.namedModules().map(([n]) => n).filter(Boolean);
  const maxIndex = Math.max(0, ...names.map((n) => Number(/\.layer\.(\d+)/.exec(n)?.[1] ?? 0)));
  return [...new Set(names.map((n) => n.replace(/\.layer\.\d+/, `.layer.{0-${maxIndex}}`)))].join(", ");
}

/** A regex that only matches part of a name: say that it must match all of it, and how. */
function partialHint(model: Module, pattern: string): string {
  if (!REGEX_CHARS.test(pattern)) return "";
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    return "";
  }
  const hit = model.namedModules().map(([n]) => n).find((n) => n && re.test(n));
  const wide = pattern.includes("|") ? `.*(${pattern}).*` : `.*${pattern}.*`;
  return hit ? ` (a regular expression must match a whole name, such as "${hit}": try "${wide}")` : "";
}

/** Every parameter the patterns select; a pattern selecting nothing is an error naming the option. */
export function resolvePatterns(model: Module, patterns: readonly string[], option: string): Set<string> {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const ps = matchParameters(model, pattern);
    if (ps.length === 0) {
      const hint = partialHint(model, pattern);
      throw new UsageError(`${option}: "${pattern}" matches no module or parameter of this model${hint}; ` +
        `its modules are: ${moduleList(model)}`);
    }
    ps.forEach((p) => out.add(p.name));
  }
  return out;
}

export interface ParamGroupRule {
  match: string;
  learning_rate?: number;
  weight_decay?: number;
}

export interface StrategyOptions {
  learningRate: number;
  weightDecay: number;
  /** Patterns of modules that are never trained. */
  freeze?: readonly string[];
  layerwiseLrDecay?: number;
  /** Free-form groups; a parameter takes the first rule that matches it. */
  paramGroups?: readonly ParamGroupRule[];
}

/** One optimizer group as the run record lists it. */
export interface NamedParamGroup extends ParamGroup {
  name: string;
  /** Peak learning rate (learningRate · lrScale). */
  lr: number;
  params: string[];
}

export interface ParamGroupPlan {
  groups: NamedParamGroup[];
  /** The group of a parameter (frozen ones get group 0: they never reach the optimizer). */
  groupOf: (p: ParamSpec) => number;
  /** Parameters that `freeze` keeps out of training for the whole run. */
  frozen: Set<string>;
}

/**
 * Resolve the strategy options into optimizer groups. Each depth (head, layer i, embeddings) keeps
 * Trainer's decay / no-decay split; groups are listed head first, as the layer-wise fixtures list them.
 */
export function planParamGroups(model: TaskModel, o: StrategyOptions): ParamGroupPlan {
  const frozen = resolvePatterns(model, o.freeze ?? [], "freeze (--freeze)");
  const params = model.parameters();
  if (frozen.size === params.length) {
    const what = JSON.stringify(o.freeze);
    throw new UsageError(`freeze (--freeze): ${what} freezes every parameter of the model: nothing would train`);
  }
  const rules = (o.paramGroups ?? []).map((rule) => ({
    rule, names: resolvePatterns(model, [rule.match], "param_groups (--param-groups)"),
  }));
  const layout = o.layerwiseLrDecay !== undefined ? modelLayout(model) : null;
  const byKey = new Map<string, NamedParamGroup & { order: number[] }>();
  const index = new Map<string, string>();
  for (const p of params) {
    if (frozen.has(p.name)) continue;
    const ruleAt = rules.findIndex((r) => r.names.has(p.name));
    const rule = ruleAt >= 0 ? rules[ruleAt].rule : undefined;
    const depth = layout ? depthOf(p.name, layout) : 0;
    let scale = layout ? Math.pow(o.layerwiseLrDecay!, depth) : 1;
    if (rule?.learning_rate !== undefined) scale = rule.learning_rate / o.learningRate;
    const wd = rule?.weight_decay ?? (p.noDecay ? 0 : o.weightDecay);
    const label = rule ? rule.match : layout ? depthName(depth, layout) : "default";
    const name = rule?.weight_decay === undefined && p.noDecay ? `${label} (no decay)` : label;
    const key = `${name}\u0000${scale}\u0000${wd}`;
    if (!byKey.has(key)) {
      const order = [ruleAt < 0 ? rules.length : ruleAt, depth, p.noDecay ? 1 : 0];
      byKey.set(key, { name, lr: o.learningRate * scale, lrScale: scale, weightDecay: wd, params: [], order });
    }
    byKey.get(key)!.params.push(p.name);
    index.set(p.name, key);
  }
  const sorted = [...byKey.entries()].sort(([, a], [, b]) => a.order.reduce((d, x, i) => d || x - b.order[i], 0));
  const position = new Map(sorted.map(([k], i) => [k, i]));
  const groups = sorted.map(([, g]) => ({
    name: g.name, lr: g.lr, lrScale: g.lrScale, weightDecay: g.weightDecay, params: g.params,
  }));
  return { groups, groupOf: (p) => position.get(index.get(p.name) ?? "") ?? 0, frozen };
}
