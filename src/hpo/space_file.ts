import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { WhetError } from "../core/errors.js";
import { suggestName } from "../train/arguments.js";
import {
  categoricalDistribution, DistributionError, floatDistribution, intDistribution, type Choice, type Distribution,
} from "./distributions.js";

/** A mistake in the command line or the space file: `whet search` exits with code 2. */
export class SearchUsageError extends WhetError {}

export type SearchSpace = Record<string, Distribution>;

/**
 * transformers' default_hp_space_optuna (Trainer.hyperparameter_search without hp_space):
 * learning_rate 1e-6..1e-4 (log), num_train_epochs 1..5, seed 1..40, batch size {4, 8, 16, 32, 64}.
 */
export function defaultSpace(): SearchSpace {
  return {
    learning_rate: floatDistribution(1e-6, 1e-4, { log: true }),
    num_train_epochs: intDistribution(1, 5),
    seed: intDistribution(1, 40),
    per_device_train_batch_size: categoricalDistribution([4, 8, 16, 32, 64]),
  };
}

const ENTRY_KEYS: Record<string, string[]> = {
  float: ["type", "low", "high", "log", "step"],
  int: ["type", "low", "high", "log", "step"],
  categorical: ["type", "choices"],
};

/**
 * Reads a space file, Optuna-style:
 * ```yaml
 * learning_rate: {type: float, low: 1e-5, high: 1e-3, log: true}
 * per_device_train_batch_size: {type: categorical, choices: [16, 32]}
 * num_train_epochs: {type: int, low: 1, high: 4}
 * ```
 * With `known`, every key must be one of those names (a TrainingArguments key for a fine-tuning
 * search); an unknown one gets the closest name as a suggestion.
 */
export function readSpaceFile(path: string, known?: readonly string[]): SearchSpace {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new SearchUsageError(`--space ${path}: cannot read it ` +
      `(${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSpace(text, path, known);
}

export function parseSpace(text: string, file: string, known?: readonly string[]): SearchSpace {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new SearchUsageError(`${file}:${e.linePos?.[0].line ?? "?"}:${e.linePos?.[0].col ?? "?"}: not valid YAML: ` +
      `${e.message.split("\n")[0]}`);
  }
  const lineOf = (offset: number | undefined): number =>
    (offset === undefined ? 0 : text.slice(0, offset).split("\n").length);
  const root = doc.toJS() as unknown;
  if (root === null || typeof root !== "object" || Array.isArray(root)) {
    throw new SearchUsageError(`${file}: expected a mapping from parameter names to {type: …} entries`);
  }
  const space: SearchSpace = {};
  for (const [name, entry] of Object.entries(root as Record<string, unknown>)) {
    const node = (doc.contents as { items?: { key: { value: string; range?: number[] } }[] }).items?.find((i) =>
      i.key.value === name);
    const where = `${file}:${lineOf(node?.key.range?.[0])}: "${name}"`;
    if (known !== undefined && !known.includes(name)) {
      const hint = suggestName(name, known);
      throw new SearchUsageError(`${where} is not a TrainingArguments key that can be ` +
        `searched${hint ? `; did you mean "${hint}"?` : ""}`);
    }
    space[name] = parseEntry(entry, where);
  }
  if (Object.keys(space).length === 0) throw new SearchUsageError(`${file}: the space is empty`);
  return space;
}

function parseEntry(entry: unknown, where: string): Distribution {
  if (Array.isArray(entry)) return categoricalDistribution(entry as Choice[], where);
  if (entry === null || typeof entry !== "object") {
    throw new SearchUsageError(`${where}: expected {type: float|int|categorical, …} or a list of choices, got ` +
      `${JSON.stringify(entry)}`);
  }
  const e = entry as Record<string, unknown>;
  const type = String(e.type ?? "");
  if (!(type in ENTRY_KEYS))
    throw new SearchUsageError(`${where}: type must be float, int or categorical, got ${JSON.stringify(e.type)}`);
  for (const k of Object.keys(e)) {
    if (!ENTRY_KEYS[type].includes(k)) {
      const hint = suggestName(k, ENTRY_KEYS[type]);
      throw new SearchUsageError(`${where}: unknown field "${k}" for type ` +
        `${type}${hint ? `; did you mean "${hint}"?` : ""} (fields: ${ENTRY_KEYS[type].join(", ")})`);
    }
  }
  try {
    if (type === "categorical") {
      if (!Array.isArray(e.choices)) throw new SearchUsageError(`${where}: a categorical entry needs choices: [..]`);
      return categoricalDistribution(e.choices as Choice[], where);
    }
    for (const k of ["low", "high"]) {
      if (typeof e[k] !== "number")
        throw new SearchUsageError(`${where}: ${k} must be a number, got ${JSON.stringify(e[k])}`);
    }
    const [low, high] = [e.low as number, e.high as number];
    if (low >= high) throw new SearchUsageError(`${where}: low (${low}) must be smaller than high (${high})`);
    const log = e.log === true;
    if (type === "float") return floatDistribution(low, high, { log, step: (e.step as number | undefined) ?? null },
      where);
    return intDistribution(low, high, { log, step: (e.step as number | undefined) ?? 1 }, where);
  } catch (err) {
    if (err instanceof DistributionError) throw new SearchUsageError(err.message);
    throw err;
  }
}
