/**
 * `whet train --help` from the run spec's zod schemas: each option whose name is a run-config
 * key gets the schema's description, its allowed values or type, and its default, so the help
 * cannot drift from what `resolveRunSpec` accepts. Defaults are shown, not set on the option:
 * a commander default would override the value a `--config` file gives.
 *
 * @example
 * const cmd = describeFromSchema(new Command("train").option("--learning-rate <value>"));
 * cmd.helpInformation(); // "--learning-rate <value>  the peak learning rate … [number > 0; default 2e-5]"
 */
import type { Command } from "commander";
import { formatValue, runConfigJsonSchema, TRAIN_REQUIRES, typeText } from "./run_schema.js";

/** `--learning-rate` → `learning_rate`. */
const keyOf = (long: string) => long.replace(/^--/, "").replace(/-/g, "_");

/** Rewrites the descriptions of `cmd`'s options that name a run-config key; returns `cmd`. */
export function describeFromSchema(cmd: Command): Command {
  const { properties } = runConfigJsonSchema();
  for (const opt of cmd.options) {
    if (!opt.long || opt.negate) continue; // --no-quote keeps its own words
    const key = keyOf(opt.long), p = properties[key];
    if (!p) continue;
    const dflt = formatValue(p.default);
    const extra = [typeText(p), dflt !== undefined ? `default ${dflt}` : TRAIN_REQUIRES.includes(key) ? "required" : ""];
    opt.description = `${p.description ?? opt.description} [${extra.filter(Boolean).join("; ")}]`;
  }
  return cmd;
}
