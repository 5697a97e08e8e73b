/**
 * Template augmentation: labelled examples generated from sentence templates with slots, the way
 * intent-classification data is bootstrapped (Rasa's and Snips' chatito-style generators). A
 * YAML file names slots and their values, and templates that use them as `{slot}`; the label
 * comes from the template, or from a slot value that carries one (which then wins). Every
 * combination of slot values is generated, up to max_per_template per template (then a seeded
 * sample of distinct combinations). A slot used twice in one template takes the same value in
 * both places; define two slots for two values. `{{` and `}}` are literal braces.
 *
 * @example
 * // intents.yaml:
 * //   slots:
 * //     city: [Paris, Berlin, New York]
 * //     when: [today, tomorrow]
 * //     action:
 * //       - {value: cancel, label: cancel_order}
 * //       - {value: track, label: track_order}
 * //   templates:
 * //     - {text: "Book a flight to {city} {when}", label: book_flight}
 * //     - {text: "What's the weather in {city} {when}?", label: get_weather}
 * //     - {text: "I want to {action} my order"}
 * const set = await readTemplates("intents.yaml");
 * generateFromTemplates(set, { seed: 0 });
 * // [{ text: "Book a flight to Paris today", label: "book_flight", template: 0 }, …]
 */
import YAML, { LineCounter } from "yaml";
import { WhetError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { readTextFile } from "../text_file.js";

export interface SlotValue { value: string; label?: string }

export interface Template {
  text: string;
  label?: string;
  /** Slots defined on this template only (they hide file-level slots of the same name). */
  slots: Record<string, SlotValue[]>;
  /** "file:line" of the template, for messages. */
  where: string;
}

export interface TemplateSet {
  path: string;
  slots: Record<string, SlotValue[]>;
  templates: Template[];
  /** From the file's `max_per_template`, if set. */
  maxPerTemplate?: number;
}

export interface GeneratedExample { text: string; label: string; template: number }

export async function readTemplates(path: string): Promise<TemplateSet> {
  return parseTemplates(await readTextFile(path), path);
}

/** Parse and check a template file: every slot used is defined, every example gets a label. */
export function parseTemplates(source: string, path: string): TemplateSet {
  const lines = new LineCounter();
  const doc = YAML.parseDocument(source, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new WhetError(`${path}:${e.linePos?.[0].line ?? "?"}: invalid YAML: ${e.message.split("\n")[0]}`);
  }
  const at = (keys: (string | number)[]) => {
    const node = doc.getIn(keys, true) as { range?: [number, number] } | undefined;
    return `${path}:${node?.range ? lines.linePos(node.range[0]).line : 1}`;
  };
  const root = doc.toJS() as unknown;
  if (!isRecord(root) || !Array.isArray(root.templates)) {
    throw new WhetError(`${path}: expected a mapping with a "templates" list (and usually "slots"); ` +
      `see the README, "Data augmentation"`);
  }
  const slots = parseSlots(root.slots, ["slots"], at);
  const templates = root.templates.map((t, i) => parseTemplate(t, i, at));
  const max = root.max_per_template;
  if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1)) {
    throw new WhetError(`${at(["max_per_template"])}: max_per_template must be a whole number >= 1, ` +
      `got ${JSON.stringify(max)}`);
  }
  const set: TemplateSet = { path, slots, templates, maxPerTemplate: max as number | undefined };
  templates.forEach((t, i) => checkTemplate(set, t, i));
  return set;
}

type Where = (keys: (string | number)[]) => string;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseSlots(v: unknown, keys: (string | number)[], at: Where): Record<string, SlotValue[]> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw new WhetError(`${at(keys)}: slots must be a mapping of slot name -> list of values`);
  const out: Record<string, SlotValue[]> = {};
  for (const [name, values] of Object.entries(v)) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new WhetError(`${at([...keys, name])}: slot "${name}" must be a non-empty list of values`);
    }
    out[name] = values.map((x, j) => slotValue(x, `${at([...keys, name, j])}: slot "${name}" value ${j + 1}`));
  }
  return out;
}

function slotValue(x: unknown, where: string): SlotValue {
  if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") return { value: String(x) };
  if (isRecord(x) && x.value !== undefined && typeof x.value !== "object") {
    if (x.label !== undefined && (typeof x.label === "object" || x.label === "")) {
      throw new WhetError(`${where}: label must be a string`);
    }
    return x.label === undefined ? { value: String(x.value) } : { value: String(x.value), label: String(x.label) };
  }
  throw new WhetError(`${where}: expected a string or {value: …, label: …}, got ${JSON.stringify(x)}`);
}

function parseTemplate(t: unknown, i: number, at: Where): Template {
  const where = at(["templates", i]);
  if (typeof t === "string") return { text: t, slots: {}, where };
  if (!isRecord(t) || typeof t.text !== "string") {
    throw new WhetError(`${where}: template ${i + 1} must be a string or {text: "…", label: …, slots: …}, ` +
      `got ${JSON.stringify(t)}`);
  }
  const label = t.label === undefined || t.label === null ? undefined : String(t.label);
  return { text: t.text, label, slots: parseSlots(t.slots, ["templates", i, "slots"], at), where };
}

/** The slot names a template uses, in order of first use; a lone brace is an error. */
export function slotsUsed(text: string, where: string): string[] {
  const names: string[] = [];
  const rest = text.replace(/\{\{|\}\}/g, "").replace(/\{([A-Za-z_][\w-]*)\}/g, (_, name: string) => {
    if (!names.includes(name)) names.push(name);
    return "";
  });
  if (/[{}]/.test(rest)) {
    throw new WhetError(`${where}: template "${text}" has a brace that is not a {slot_name} ` +
      `(write {{ or }} for a literal brace)`);
  }
  return names;
}

function checkTemplate(set: TemplateSet, t: Template, i: number): void {
  const used = slotsUsed(t.text, t.where);
  const known = { ...set.slots, ...t.slots };
  for (const name of used) {
    if (!known[name]) {
      throw new WhetError(`${t.where}: template ${i + 1} ("${t.text}") uses slot "${name}", which is not defined ` +
        `(slots: ${Object.keys(known).join(", ") || "none"})`);
    }
  }
  const labelled = used.some((name) => known[name].every((v) => v.label !== undefined));
  if (t.label === undefined && !labelled) {
    throw new WhetError(`${t.where}: template ${i + 1} ("${t.text}") has no label, and none of its slots gives every ` +
      `value one; add label: to the template or to each value of a slot`);
  }
}

/** Every example of every template (or a seeded sample of maxPerTemplate), labels resolved. */
export function generateFromTemplates(set: TemplateSet, o: { seed: number; maxPerTemplate?: number }):
  GeneratedExample[] {
  const cap = o.maxPerTemplate ?? set.maxPerTemplate ?? 100;
  const out: GeneratedExample[] = [];
  set.templates.forEach((t, i) => {
    const known = { ...set.slots, ...t.slots };
    const used = slotsUsed(t.text, t.where);
    const sizes = used.map((name) => known[name].length);
    const total = sizes.reduce((a, b) => a * b, 1);
    const picks = total <= cap ? Array.from({ length: total }, (_, k) => k)
      : sampleDistinct(total, cap, new Rng(o.seed, i, 0x7e3d)).sort((a, b) => a - b);
    for (const k of picks) {
      const choice = decode(k, sizes).map((j, s) => known[used[s]][j]);
      out.push({ text: fill(t.text, used, choice), label: labelOf(t, i, used, choice), template: i });
    }
  });
  return out;
}

/** Combination number k in mixed radix (the last slot varies fastest). */
function decode(k: number, sizes: number[]): number[] {
  const out = new Array<number>(sizes.length);
  for (let s = sizes.length - 1; s >= 0; s--) {
    out[s] = k % sizes[s];
    k = Math.floor(k / sizes[s]);
  }
  return out;
}

function sampleDistinct(total: number, n: number, rng: Rng): number[] {
  const seen = new Set<number>();
  while (seen.size < n) seen.add(Math.floor(rng.uniform() * total));
  return [...seen];
}

function fill(text: string, used: string[], choice: SlotValue[]): string {
  return text.replace(/\{\{|\}\}|\{([A-Za-z_][\w-]*)\}/g, (m, name?: string) =>
    name === undefined ? m[0] : choice[used.indexOf(name)].value);
}

function labelOf(t: Template, i: number, used: string[], choice: SlotValue[]): string {
  const fromSlots = [...new Set(choice.map((v) => v.label).filter((l): l is string => l !== undefined))];
  if (fromSlots.length > 1) {
    throw new WhetError(`${t.where}: template ${i + 1} ("${t.text}"): slot values give conflicting labels ` +
      `${fromSlots.map((l) => JSON.stringify(l)).join(" and ")} (slots ${used.join(", ")})`);
  }
  const label = fromSlots[0] ?? t.label;
  if (label === undefined) {
    throw new WhetError(`${t.where}: template ${i + 1} ("${t.text}"): no label for "${fill(t.text, used, choice)}"`);
  }
  return label;
}
