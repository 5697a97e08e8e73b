/**
 * LabelMap: dataset labels ↔ class ids, and the `id2label`/`label2id` records of config.json.
 * Ids follow transformers' run_glue (`label_list = sorted(set(labels))`), so a model trained here
 * and one trained there on the same file agree on what logit 3 means: strings sort by code point,
 * integers numerically (0..K-1 therefore keep their values).
 *
 * @example
 * const map = LabelMap.fit(rows.map((r) => r.label));   // ["negative", "positive"]
 * map.encode("positive");                               // 1
 * config.id2label = map.toConfig().id2label;            // { "0": "negative", "1": "positive" }
 */
import { WhetError } from "../core/errors.js";
import { optionName } from "../core/option_names.js";
import type { Label } from "./read.js";

/** transformers' `config.problem_type` values. */
export type ProblemType = "single_label_classification" | "multi_label_classification" | "regression";

/** The label part of a config.json (keys of id2label are strings of integers there). */
export interface LabelConfig {
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  problem_type: ProblemType;
}

const INT = /^-?(0|[1-9]\d*)$/;
const NOT_A_NUMBER = /^([+-]?(nan|inf|infinity)|none|null|n\/a|na|)$/i;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DEFAULT_NAME = /^LABEL_(0|[1-9]\d*)$/;

/** Python's str ordering: by code point (JS's default sort compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export interface FitOptions {
  /** Default: lists → multi-label; numbers (or numeric strings) with a fraction → regression; else single-label. */
  problemType?: ProblemType;
}

export class LabelMap {
  private readonly index: Map<string, number>;

  private constructor(
    readonly problemType: ProblemType,
    /** Class names by id; regression has the one name transformers gives it, "LABEL_0". */
    readonly names: readonly string[],
    /** Multi-label data given as 0/1 vectors rather than lists of names. */
    readonly multiHotInput = false,
  ) {
    this.index = new Map(names.map((n, i) => [n, i]));
    if (this.index.size !== names.length) {
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      throw new WhetError(`Cannot build a label map: the label ${JSON.stringify(dup)} appears twice`);
    }
  }

  /** Learn the label set from training labels (undefined entries, i.e. unlabelled rows, are ignored). */
  static fit(labels: Iterable<Label | undefined>, options: FitOptions = {}): LabelMap {
    const all = [...labels].filter((l): l is Label => l !== undefined);
    if (all.length === 0 && options.problemType !== "regression") {
      throw new WhetError(`Cannot learn labels: no row has one (check ${optionName("label_column")})`);
    }
    const lists = all.filter((l) => Array.isArray(l));
    const problemType = options.problemType ??
      (lists.length > 0 ? "multi_label_classification" : all.every(isNumeric) && all.some((l) => !isInteger(l)) ? "regression"
        : "single_label_classification");
    // One "nan" among fractional numbers is a broken regression target, not a 5-class task.
    const numeric = all.filter(isNumeric);
    const missing = all.find((l) => typeof l === "string" && NOT_A_NUMBER.test(l.trim()));
    if (!options.problemType && missing !== undefined && numeric.length + all.filter((l) => l === missing).length === all.length && numeric.some((l) => !isInteger(l))) {
      throw new WhetError(`Cannot use ${JSON.stringify(missing)} as a regression target: the other labels are numbers, and a target must be a finite number (remove or fix those rows)`);
    }
    if (problemType === "regression") {
      const bad = all.find((l) => !isNumeric(l));
      if (bad !== undefined) throw new WhetError(`Cannot use ${JSON.stringify(bad)} as a regression target: labels must be numbers`);
      return LabelMap.regression();
    }
    if (problemType === "multi_label_classification") {
      const vectors = lists as (string[] | number[])[];
      const width = vectors[0]?.length ?? 0;
      if (vectors.length === all.length && width > 0 &&
        vectors.every((v) => v.length === width && (v as unknown[]).every((x) => x === 0 || x === 1))) {
        return new LabelMap(problemType, Array.from({ length: width }, (_, i) => String(i)), true);
      }
      return new LabelMap(problemType, sortedNames(all.flatMap((l) => (Array.isArray(l) ? l : [l]))));
    }
    if (lists.length > 0) throw new WhetError(`Cannot fit single-label classes: some labels are lists (${JSON.stringify(lists[0])})`);
    return new LabelMap(problemType, sortedNames(all as (string | number)[]));
  }

  /** A map over given class names, in the given order (ids 0..K-1). */
  static fromNames(names: readonly string[], problemType: ProblemType = "single_label_classification", multiHotInput = false): LabelMap {
    if (problemType === "regression") return LabelMap.regression();
    if (names.length === 0) throw new WhetError("Cannot build a label map without labels");
    return new LabelMap(problemType, [...names], multiHotInput);
  }

  static regression(): LabelMap {
    return new LabelMap("regression", ["LABEL_0"]);
  }

  /** From a config.json's id2label (and label2id, which must agree with it, and problem_type). */
  static fromConfig(config: { id2label?: Record<string, string | number>; label2id?: Record<string, number>; problem_type?: string | null }): LabelMap {
    const problemType = (config.problem_type ?? "single_label_classification") as ProblemType;
    if (!["single_label_classification", "multi_label_classification", "regression"].includes(problemType)) {
      throw new WhetError(`Unknown problem_type "${config.problem_type}" in config.json ` +
        `(expected "single_label_classification", "multi_label_classification" or "regression")`);
    }
    if (problemType === "regression") return LabelMap.regression();
    const entries = Object.entries(config.id2label ?? {});
    if (entries.length === 0) throw new WhetError("Cannot read labels from config.json: id2label is missing or empty");
    const names: string[] = new Array(entries.length);
    for (const [key, name] of entries) {
      const id = Number(key);
      if (!INT.test(key) || id >= entries.length || id < 0) {
        throw new WhetError(`Cannot read id2label from config.json: key "${key}" is not an id in 0..${entries.length - 1}`);
      }
      names[id] = String(name);
    }
    const map = new LabelMap(problemType, names);
    for (const [name, id] of Object.entries(config.label2id ?? {})) {
      if (map.index.get(name) !== id) {
        throw new WhetError(`config.json disagrees with itself: label2id["${name}"] = ${id} but id2label["${id}"] = ` +
          `${JSON.stringify(names[id] ?? null)}`);
      }
    }
    return map;
  }

  /** Output width of the classification head (1 for regression). */
  get numLabels(): number {
    return this.names.length;
  }

  toConfig(): LabelConfig {
    return {
      id2label: Object.fromEntries(this.names.map((n, i) => [String(i), n])),
      label2id: Object.fromEntries(this.names.map((n, i) => [n, i])),
      problem_type: this.problemType,
    };
  }

  has(label: string | number): boolean {
    return this.lookup(label) !== undefined;
  }

  /** The class id of one label; an unknown label is an error that lists some known ones. */
  id(label: string | number): number {
    const id = this.lookup(label);
    if (id !== undefined) return id;
    const shown = this.names.slice(0, 8).map((n) => JSON.stringify(n)).join(", ");
    const more = this.names.length > 8 ? `, … ${this.names.length - 8} more` : "";
    throw new WhetError(`Unknown label ${JSON.stringify(label)}: the model knows ${this.names.length} labels ` +
      `(${shown}${more}); evaluation data must use the training labels`);
  }

  name(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.names.length) {
      throw new WhetError(`No label with id ${id}: ids run 0..${this.names.length - 1}`);
    }
    return this.names[id];
  }

  /**
   * A dataset label as the training target: a class id (single-label), a multi-hot vector of
   * 0/1 (multi-label), or the number itself (regression).
   */
  encode(label: Label): number | number[] {
    if (this.problemType === "regression") {
      const v = typeof label === "number" ? label : typeof label === "string" && FLOAT.test(label.trim()) ? Number(label) : NaN;
      if (!Number.isFinite(v)) throw new WhetError(`Cannot use ${JSON.stringify(label)} as a regression target: expected a number`);
      return v;
    }
    if (this.problemType === "single_label_classification") {
      if (Array.isArray(label)) throw new WhetError(`Expected one label, got a list ${JSON.stringify(label)} (is this multi-label data?)`);
      return this.id(label);
    }
    const list: (string | number)[] = Array.isArray(label) ? label : [label];
    if (this.multiHotInput) {
      if (list.length !== this.names.length || !list.every((x) => x === 0 || x === 1)) {
        throw new WhetError(`Expected a 0/1 vector of length ${this.names.length}, got ${JSON.stringify(label)}`);
      }
      return list as number[];
    }
    const hot = new Array<number>(this.names.length).fill(0);
    for (const l of list) hot[this.id(l)] = 1;
    return hot;
  }

  /** Class names from predicted ids (or the positions set in a multi-hot vector). */
  decode(ids: number | readonly number[]): string | string[] {
    if (typeof ids === "number") return this.name(ids);
    return ids.flatMap((v, i) => (v ? [this.name(i)] : []));
  }

  private lookup(label: string | number): number | undefined {
    const key = typeof label === "number" ? String(label) : label;
    const id = this.index.get(key);
    if (id !== undefined) return id;
    // A checkpoint saved without names has transformers' default LABEL_0..; integer labels then
    // mean the ids themselves.
    if (INT.test(key) && this.names.every((n, i) => DEFAULT_NAME.test(n) && n === `LABEL_${i}`)) {
      const n = Number(key);
      if (n < this.names.length) return n;
    }
    return undefined;
  }
}

function isNumeric(l: Label): boolean {
  return typeof l === "number" || (typeof l === "string" && FLOAT.test(l.trim()));
}

function isInteger(l: Label): boolean {
  return typeof l === "number" ? Number.isInteger(l) : typeof l === "string" && INT.test(l.trim());
}

/** sorted(set(labels)): integers numerically when every label is one, otherwise by code point. */
function sortedNames(labels: readonly (string | number)[]): string[] {
  const uniq = [...new Set(labels.map((l) => (typeof l === "number" ? String(l) : l)))];
  if (uniq.every((l) => INT.test(l))) return uniq.sort((a, b) => Number(a) - Number(b));
  return uniq.sort(compareCodePoints);
}

/** The label part of a starting model's config.json, as alignLabels reads it. */
export interface ModelLabels {
  id2label?: Record<string, string | number>;
  label2id?: Record<string, number>;
}

export interface AlignedLabels {
  /** The map to train with: the model's when it covers the data's labels, else the data's. */
  labels: LabelMap;
  /** "model": the model's ids and order are kept; "data": the data's own (sorted) labels. */
  source: "model" | "data";
  /** Set when the model carries labels of its own that do not cover the data's: its head means something else. */
  mismatch?: string;
}

/**
 * Choose the label ids for fine-tuning a model that may already carry labels, as transformers'
 * run_glue / run_ner do: when config.json's label2id names every label of the data, its ids and
 * order are kept (a trained head stays meaningful); when the model has labels of its own that
 * the data does not fit, the data's sorted labels are used and `mismatch` says why. A config
 * with transformers' default names (LABEL_0, LABEL_1…) carries no labels.
 *
 * @example
 * const { labels, mismatch } = alignLabels(LabelMap.fit(rows.map((r) => r.label)), readConfig(dir));
 */
export function alignLabels(data: LabelMap, model: ModelLabels): AlignedLabels {
  const names = modelLabelNames(model);
  if (!names || data.problemType === "regression") return { labels: data, source: "data" };
  if (data.multiHotInput) {
    // 0/1 vectors carry no names: their positions are the model's ids when the widths agree.
    if (names.length === data.numLabels) return { labels: LabelMap.fromNames(names, data.problemType, true), source: "model" };
  } else if (data.names.every((n) => names.includes(n))) {
    return { labels: LabelMap.fromNames(names, data.problemType), source: "model" };
  }
  const show = (l: readonly string[]) => l.map((n) => JSON.stringify(n)).join(", ");
  return {
    labels: data,
    source: "data",
    mismatch: `the model's labels (${show(names)}) do not cover the data's labels (${show(data.names)}): ` +
      `the classification head is initialised afresh for the data's labels`,
  };
}

/** The model's label names in id order, or null for none / transformers' default LABEL_i names. */
function modelLabelNames(model: ModelLabels): string[] | null {
  const byId = Object.entries(model.id2label ?? {}).map(([id, n]) => [Number(id), String(n)] as const);
  const entries = byId.length > 0 ? byId : Object.entries(model.label2id ?? {}).map(([n, id]) => [id, n] as const);
  const names: string[] = [];
  for (const [id, n] of entries) names[id] = n;
  if (entries.length === 0 || names.length !== entries.length || names.some((n) => n === undefined)) return null;
  return names.every((n, i) => n === `LABEL_${i}`) ? null : names;
}
