import { Command } from "commander";
import { readFileSync } from "node:fs";
import { UsageError, WhetError } from "../core/errors.js";
import { PeftConfigError } from "../peft/config.js";

/** The adapter flags of `whet train`; PEFT's key names in kebab case. */
export function addPeftOptions(
  cmd: Command, adapterHelp = "load this adapter folder (PEFT layout) onto --model and continue training it",
): Command {
  const num = (flag: string) => (v: string) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got "${v}"`);
    return n;
  };
  const list = (v: string) => v.split(",").map((x) => x.trim()).filter((x) => x !== "");
  return cmd
    .option("--peft <method>", "train an adapter instead of the whole model: lora, ia3, prompt_tuning, prefix_tuning or bottleneck (AdapterHub's seq_bn / double_seq_bn)")
    .option("--peft-config <file>", "PEFT's adapter_config.json (or a JSON/YAML file with its keys) describing the adapter to train")
    .option("--adapter <dir>", adapterHelp)
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

/** The run's `peft` entry and where each of its keys came from (a flag, --peft-config FILE, the run config). */
export interface PeftInput {
  value: unknown;
  origin: Record<string, string>;
}

/**
 * The run's `peft` entry from (in increasing precedence) the run config's `peft:` (a method name
 * or a mapping of PEFT's keys), --peft-config, --peft and the --lora-* flags; value undefined when none.
 */
export function peftInput(opts: Record<string, unknown>, fromRunConfig: unknown, runConfigPath?: unknown): PeftInput {
  let raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const from = (keys: string[], where: string) => keys.forEach((k) => (origin[k] = where));
  if (typeof fromRunConfig === "string") raw.peft_type = fromRunConfig;
  else if (fromRunConfig !== undefined) {
    if (typeof fromRunConfig !== "object" || fromRunConfig === null) throw new WhetError("the run config's peft: expected a method name or a mapping with PEFT's keys (peft_type, r, …)");
    raw = { ...(fromRunConfig as Record<string, unknown>) };
  }
  from(Object.keys(raw), `--config ${String(runConfigPath ?? "")} (peft:)`);
  if (opts.peftConfig) {
    const file = readConfigFile(opts.peftConfig as string);
    raw = { ...raw, ...file };
    from(Object.keys(file), `--peft-config ${String(opts.peftConfig)}`);
  }
  if (opts.peft) {
    raw.peft_type = opts.peft;
    origin.peft_type = `--peft ${String(opts.peft)}`;
  }
  for (const k of Object.keys(FLAG_KEYS)) {
    if (opts[k] === undefined) continue;
    raw[FLAG_KEYS[k]] = opts[k];
    origin[FLAG_KEYS[k]] = kebab(k);
  }
  return { value: Object.keys(raw).length === 0 ? undefined : raw, origin };
}

const kebab = (camel: string) => `--${camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const FLAG_OF_KEY = Object.fromEntries(Object.entries(FLAG_KEYS).map(([flag, key]) => [key, kebab(flag)]));

/**
 * Run `fn`, saying where a bad adapter setting came from: one typed as a flag is a usage error
 * (exit 2) naming the flag; one read from a file names the file and the key.
 */
export async function explainPeftErrors<T>(input: PeftInput, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof PeftConfigError)) throw e;
    const origin = input.origin[e.key] ?? input.origin.peft_type ?? Object.values(input.origin)[0];
    if (!origin) throw e;
    const fromFile = origin.startsWith("--config") || origin.startsWith("--peft-config");
    if (fromFile) throw new WhetError(`${origin}: ${e.detail}`);
    const flag = FLAG_OF_KEY[e.key];
    if (flag && origin === flag) throw new UsageError(`${flag}: ${e.detail.replace(`"${e.key}" `, "")}`);
    throw new UsageError(`${origin}: ${e.detail}${flag ? ` (set it with ${flag})` : ""}`);
  }
}
