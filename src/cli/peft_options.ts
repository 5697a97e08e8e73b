import { Command } from "commander";
import { readFileSync } from "node:fs";
import { WhetError } from "../core/errors.js";
import type { TaskModel } from "../models/auto.js";
import { readAdapterConfig } from "../peft/adapter_files.js";
import type { AppliedAdapter } from "../peft/apply.js";
import { parsePeftConfig, type PeftSettings } from "../peft/config.js";
import { adapterModelFiles, attachAdapter, loadAdapter } from "../train/adapter_model.js";
import type { ModelFiles } from "../train/checkpoint.js";
import type { Tokenizer } from "../tokenizers/index.js";

/** The adapter flags of `whet train`; PEFT's key names in kebab case. */
export function addPeftOptions(cmd: Command): Command {
  const num = (flag: string) => (v: string) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new WhetError(`${flag}: expected a number, got "${v}"`);
    return n;
  };
  const list = (v: string) => v.split(",").map((x) => x.trim()).filter((x) => x !== "");
  return cmd
    .option("--peft <method>", "train an adapter instead of the whole model: lora, ia3, prompt_tuning, prefix_tuning or bottleneck (AdapterHub's seq_bn / double_seq_bn)")
    .option("--peft-config <file>", "PEFT's adapter_config.json (or a JSON/YAML file with its keys) describing the adapter to train")
    .option("--adapter <dir>", "load this adapter folder (PEFT layout) onto --model and continue training it")
    .option("--lora-r <n>", "LoRA rank r (default 8)", num("--lora-r"))
    .option("--lora-alpha <n>", "LoRA alpha: the update is scaled by alpha / r (default 8)", num("--lora-alpha"))
    .option("--lora-dropout <p>", "dropout on the LoRA input (default 0)", num("--lora-dropout"))
    .option("--target-modules <names>", "comma-separated module names matched on \".\" boundaries (or one regex); default: PEFT's per architecture", list)
    .option("--modules-to-save <names>", "comma-separated modules trained in full and saved with the adapter (the classifier is added for classification)", list)
    .option("--feedforward-modules <names>", "IA3: target modules whose input (not output) is scaled", list)
    .option("--num-virtual-tokens <n>", "prompt / prefix tuning: number of virtual tokens", num("--num-virtual-tokens"));
}

/** Flags that stand for keys of the run config's peft: mapping (the schema lists `peft` and `adapter` only). */
export const PEFT_SHORTHANDS = ["--peft-config", "--lora-r", "--lora-alpha", "--lora-dropout", "--target-modules", "--modules-to-save",
  "--feedforward-modules", "--num-virtual-tokens"];

const FLAG_KEYS: Record<string, string> = {
  loraR: "r", loraAlpha: "lora_alpha", loraDropout: "lora_dropout", targetModules: "target_modules", modulesToSave: "modules_to_save",
  feedforwardModules: "feedforward_modules", numVirtualTokens: "num_virtual_tokens",
};

function readConfigFile(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new WhetError(`--peft-config ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * The adapter a training run asks for, from (in increasing precedence) the run config's `peft:`
 * mapping, --peft-config, --peft and the --lora-* flags. Null when none is asked for.
 */
export function peftSettings(opts: Record<string, unknown>, fromRunConfig: unknown, task: string): PeftSettings | null {
  let raw: Record<string, unknown> = {};
  let where = "the run config's peft";
  if (typeof fromRunConfig === "string") raw.peft_type = fromRunConfig.toUpperCase();
  else if (fromRunConfig !== undefined) {
    if (typeof fromRunConfig !== "object" || fromRunConfig === null) throw new WhetError(`${where}: expected a method name or a mapping with PEFT's keys (peft_type, r, …)`);
    raw = { ...(fromRunConfig as Record<string, unknown>) };
  }
  if (opts.peftConfig) {
    raw = { ...raw, ...readConfigFile(opts.peftConfig as string) };
    where = opts.peftConfig as string;
  }
  if (opts.peft) raw.peft_type = String(opts.peft).toUpperCase().replace(/-/g, "_");
  const flags = Object.keys(FLAG_KEYS).filter((k) => opts[k] !== undefined);
  for (const k of flags) raw[FLAG_KEYS[k]] = opts[k];
  if (Object.keys(raw).length === 0) return null;
  if (raw.peft_type === undefined) {
    const given = flags.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ");
    throw new WhetError(`${given || where}: say which adapter to train with --peft (lora, ia3, prompt_tuning, prefix_tuning) or peft_type`);
  }
  if (opts.adapter) throw new WhetError("--adapter continues a saved adapter: it cannot be combined with --peft, --peft-config or a peft: section");
  // A new adapter for this run's task; a file's own task_type is kept.
  raw.task_type ??= task === "token-classification" ? "TOKEN_CLS" : "SEQ_CLS";
  if (opts.peft && flags.length) where = `--peft ${opts.peft as string}`;
  return parsePeftConfig(raw, where);
}

export interface RunAdapter {
  adapter: AppliedAdapter;
  files: ModelFiles;
}

/** Attach the adapter a run asks for (new, or --adapter DIR) and say how much of the model trains. */
export async function setupRunAdapter(
  model: TaskModel, opts: Record<string, unknown>, settings: PeftSettings | null, seed: number, baseModel: string, labels?: readonly string[], tok?: Tokenizer,
): Promise<RunAdapter | null> {
  if (!settings && !opts.adapter) return null;
  if (opts.adapter) readAdapterConfig(opts.adapter as string); // validates before any work
  // PEFT tokenizes prompt_tuning_init_text with the special tokens.
  const text = settings?.peft_type === "PROMPT_TUNING" && settings.prompt_tuning_init === "TEXT" ? settings.prompt_tuning_init_text : null;
  const textIds = text !== null && tok ? (await tok.encode(text, null, { addSpecialTokens: true })).ids : undefined;
  const adapter = opts.adapter ? await loadAdapter(model, opts.adapter as string, seed) : attachAdapter(model, settings!, seed, false, textIds);
  for (const n of adapter.notes) console.error(`${adapter.settings.peft_type}: ${n}`);
  const all = model.parameters().reduce((s, p) => s + p.size, 0);
  const trainable = model.parameters().filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
  console.error(`${adapter.settings.peft_type} adapter: trainable params: ${trainable} || all params: ${all} || trainable%: ${(100 * trainable / all).toFixed(4)}`);
  return { adapter, files: adapterModelFiles(model, adapter, baseModel, { labels }) };
}
