import { Command, Option } from "commander";
import { readFileSync, statSync } from "node:fs";
import YAML from "yaml";
import { z } from "zod";
import { UsageError, WhetError } from "../core/errors.js";
import { findDuplicateKey } from "../core/json_keys.js";
import { assertRegularFile } from "../core/regular_file.js";
import { TrainingArgumentsSchema, suggestName } from "../train/arguments.js";

const kebab = (k: string) => k.replace(/_/g, "-");

/** The zod type under optional/default wrappers. */
function inner(t: z.ZodType): z.ZodType {
  let cur: z.ZodType = t;
  for (;;) {
    const def = (cur as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
    if ((def.type === "optional" || def.type === "default") && def.innerType) cur = def.innerType;
    else return cur;
  }
}

/** Parse a flag's text by the argument's type, so "--learning-rate 2e-5" is a number. */
function parser(name: string, t: z.ZodType): (v: string) => unknown {
  const type = (inner(t) as unknown as { def: { type: string } }).def.type;
  return (v: string) => {
    if (type === "number") {
      const n = Number(v);
      if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${kebab(name)}: expected a number, got "${v}"`);
      return n;
    }
    if (type === "boolean") {
      if (["true", "1", "yes"].includes(v)) return true;
      if (["false", "0", "no"].includes(v)) return false;
      throw new UsageError(`--${kebab(name)}: expected true or false, got "${v}"`);
    }
    if (type === "array") {
      // freeze: a comma list of patterns; param_groups: JSON (a regex with commas fits only there too).
      if (v.trim().startsWith("[")) {
        try {
          return JSON.parse(v);
        } catch (e) {
          throw new UsageError(`--${kebab(name)}: expected a JSON list, got ${v} (${(e as Error).message})`);
        }
      }
      return v.split(",").map((s) => s.trim()).filter(Boolean);
    }
    if (type === "union") {
      // class_weights: "balanced" or a comma list; resume_from_checkpoint: a path or true.
      if (v === "true") return true;
      if (/^[\d.,\s e+-]+$/.test(v) && v.includes(",")) return v.split(",").map(Number);
    }
    return v;
  };
}

/** Add every training argument as a kebab-case option (booleans also as bare flags). */
export function addTrainingOptions(cmd: Command): Command {
  for (const [name, t] of Object.entries(TrainingArgumentsSchema.shape)) {
    const def = (inner(t as z.ZodType) as unknown as { def: { type: string; options?: { def: { type: string } }[] } }).def;
    // Booleans, and unions that accept true (resume_from_checkpoint), may be given as bare flags.
    const bare = def.type === "boolean" || (def.type === "union" && def.options!.some((x) => x.def.type === "boolean"));
    const flag = bare ? `--${kebab(name)} [${def.type === "boolean" ? "bool" : "value"}]` : `--${kebab(name)} <value>`;
    const opt = new Option(flag, (t as z.ZodType).description ?? name).argParser(parser(name, t as z.ZodType));
    cmd.addOption(opt);
  }
  return cmd;
}

/** Training arguments given as flags (commander's camelCase keys back to snake_case). */
export function trainingFlags(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(TrainingArgumentsSchema.shape)) {
    const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (opts[camel] !== undefined) out[name] = opts[camel] === undefined ? true : opts[camel];
  }
  return out;
}

/** Larger than any run config; a bigger file is a mistake (or an attack), not settings. */
const MAX_RUN_CONFIG_BYTES = 1 << 20;

/** A run config in YAML or JSON; keys may be snake_case or kebab-case. */
export function readRunConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    // A FIFO or a device (/dev/zero) would block or read forever; no run config is megabytes long.
    assertRegularFile(path, "--config");
    const size = statSync(path).size;
    if (size > MAX_RUN_CONFIG_BYTES) throw new WhetError(`--config ${path}: ${size} bytes; a run config is at most ${MAX_RUN_CONFIG_BYTES} bytes`);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof WhetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : code ?? (e as Error).message;
    throw new WhetError(`--config ${path}: ${why}`);
  }
  let v: unknown;
  try {
    // merge: "<<" keys as PyYAML reads them (YAML 1.1), so Python users' configs with anchors work;
    // the yaml package still refuses alias bombs. An unknown tag is a plain value the schema judges.
    v = path.endsWith(".json") ? JSON.parse(text) : YAML.parse(text, { merge: true, logLevel: "error" });
  } catch (e) {
    // The parsers recurse: a deeply nested document overflows the stack, which says nothing to a user.
    const why = e instanceof RangeError || /Maximum call stack/.test((e as Error).message) ? "the document is nested too deeply" : (e as Error).message.split("\n")[0].replace(/:$/, "");
    throw new WhetError(`reading the config ${path}: ${why}`);
  }
  const dup = path.endsWith(".json") ? findDuplicateKey(text) : null;
  if (dup) throw new WhetError(`reading the config ${path}, line ${dup.line}: the key "${dup.key}" appears twice`);
  if (v === null || v === undefined) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new WhetError(`reading the config ${path}: expected a mapping of argument names to values`);
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k.replace(/-/g, "_"), x]));
}

export { suggestName };
