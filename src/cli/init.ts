/**
 * `whet init`: a commented starter run config. It is generated from the run config's schema
 * (run_schema.ts), so every option `whet train` accepts is listed with its current default and
 * explanation; the main ones are set, the rest are commented out. The file loads back through
 * `whet train --config` unchanged (init.test.ts checks that).
 *
 * @example
 * whet init                      # writes run.yaml
 * whet init --output - | less    # prints it instead
 */
import { Command } from "commander";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { WhetError } from "../core/errors.js";
import { DATA_KEYS, formatValue, runConfigJsonSchema, typeText, type JsonProp } from "./run_schema.js";
import { style } from "./style.js";

/** Set in the starter file; everything else is listed commented out. */
const MAIN = new Set([
  "model", "task", "train_file", "text_column", "label_column",
  "output_dir", "learning_rate", "num_train_epochs", "per_device_train_batch_size", "per_device_eval_batch_size",
  "max_length", "warmup_ratio", "weight_decay", "lr_scheduler_type", "eval_strategy", "save_strategy",
  "load_best_model_at_end", "logging_steps", "seed",
]);

/**
 * Example values for keys without a default, so the set ones run as they are and the commented
 * ones show their form; a key missing here shows its type (`<integer > 0>`).
 */
const PLACEHOLDERS: Record<string, string> = {
  model: "prajjwal1/bert-mini",
  train_file: "train.csv",
  validation_file: "validation.csv",
  text_pair_column: "text_pair",
  label_separator: "\"|\"",
  output_dir: "runs/my-model",
  eval_steps: "500",
  save_total_limit: "3",
  metric_for_best_model: "f1",
  greater_is_better: "true",
  early_stopping_patience: "3",
  data_seed: "42",
  class_weights: "balanced",
  hidden_dropout_prob: "0.1",
  attention_dropout_prob: "0.1",
  classifier_dropout_prob: "0.1",
  resume_from_checkpoint: "true",
  threads: "2",
};

/** The schema file shipped in the package (schema/ beside dist/). */
export const SCHEMA_FILE = fileURLToPath(new URL("../../schema/whet-run.schema.json", import.meta.url));

// YAML 1.1 readers (PyYAML) take these as booleans or null: quote them so every reader agrees.
const YAML11_SPECIAL = /^(y|yes|n|no|true|false|on|off|null|~)$/i;

function yamlValue(name: string, p: JsonProp): string {
  const d = formatValue(p.default);
  if (d === undefined) return PLACEHOLDERS[name] ?? `<${typeText(p)}>`;
  return typeof p.default === "string" && YAML11_SPECIAL.test(d) ? JSON.stringify(d) : d;
}

function entry(name: string, p: JsonProp): string {
  let about = p.description ?? "";
  if (p.enum) about += ` (${p.enum.join(" | ")})`;
  const line = `${name}: ${yamlValue(name, p)}`;
  return `# ${about}\n${MAIN.has(name) ? line : `# ${line}`}\n`;
}

/**
 * The starter file's text. `schemaRef`: where editors find the JSON Schema, relative to the
 * file (yaml-language-server's modeline); omitted when null.
 */
export function starterConfig(schemaRef: string | null = null): string {
  const { properties } = runConfigJsonSchema();
  const names = Object.keys(properties);
  const section = (title: string, keys: string[]) => {
    const set = keys.filter((k) => MAIN.has(k)), rest = keys.filter((k) => !MAIN.has(k));
    return [`# ── ${title} ${"─".repeat(Math.max(0, 90 - title.length))}`, "",
      ...set.map((k) => entry(k, properties[k])),
      ...(rest.length ? [`# More ${title.toLowerCase()} options (uncomment to use):`, "", ...rest.map((k) => entry(k, properties[k]))] : []),
    ].join("\n");
  };
  return [
    ...(schemaRef ? [`# yaml-language-server: $schema=${schemaRef}`] : []),
    "# whet run config: whet train --config run.yaml",
    "# Keys are snake_case; each is also a whet train flag in kebab case (learning_rate → --learning-rate),",
    "# and flags given on the command line override this file. Set values are the defaults, except",
    "# model, train_file and output_dir: yours to fill in. Commented-out keys are optional (the values",
    "# shown are their defaults, or examples where there is none). Reference: README.md, \"Configuration",
    "# reference\". Check your data first with: whet inspect train.csv",
    "",
    section("Data and model", names.filter((n) => DATA_KEYS.includes(n))),
    section("Training", names.filter((n) => !DATA_KEYS.includes(n))),
  ].join("\n");
}

/** The schema file's path as the config at `target` should name it (POSIX separators), or null when not shipped. */
function schemaRefFor(target: string): string | null {
  if (!existsSync(SCHEMA_FILE)) return null;
  const rel = relative(dirname(resolve(target)), SCHEMA_FILE).split(sep).join("/");
  return rel.startsWith(".") || rel.startsWith("/") ? rel : `./${rel}`;
}

export function initCommand(): Command {
  return new Command("init")
    .description("write a commented starter run config (YAML) for whet train --config")
    .option("-o, --output <file>", "where to write it; - prints it", "run.yaml")
    .option("-f, --force", "overwrite an existing file")
    .action((opts: { output: string; force?: boolean }) => {
      if (opts.output === "-") {
        process.stdout.write(starterConfig(existsSync(SCHEMA_FILE) ? SCHEMA_FILE : null));
        return;
      }
      if (/\.json$/i.test(opts.output)) {
        throw new WhetError(`init writes YAML with comments, which JSON cannot hold: name the file ${opts.output.replace(/\.json$/i, ".yaml")}`);
      }
      try {
        // "wx" fails if the file exists: no window between a check and the write.
        writeFileSync(opts.output, starterConfig(schemaRefFor(opts.output)), { flag: opts.force ? "w" : "wx" });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EEXIST") throw new WhetError(`${opts.output} already exists: pass --force to overwrite it`);
        throw new WhetError(`writing ${opts.output}: ${code ?? (e as Error).message}`);
      }
      const s = style(process.stderr);
      console.error(`${s.green("wrote")} ${opts.output}: set model and train_file, then run ${s.bold(`whet train --config ${opts.output}`)}`);
    });
}
