// A run's adapter: the run spec's `peft` (a method name or PEFT's adapter_config keys) or
// `adapter` (a saved folder), attached to the model the recipe built.
import { UsageError } from "../core/errors.js";
import type { TaskModel } from "../models/auto.js";
import { readAdapterConfig } from "../peft/adapter_files.js";
import type { AppliedAdapter } from "../peft/apply.js";
import { parsePeftConfig, PeftConfigError, type PeftSettings } from "../peft/config.js";
import type { Tokenizer } from "../tokenizers/index.js";
import { adapterModelFiles, attachAdapter, loadAdapter } from "../train/adapter_model.js";
import type { ModelFiles } from "../train/checkpoint.js";

/** Validate the run's adapter settings before any work; null when the run trains the whole model. */
export function peftFromSpec(peft: unknown, adapter: string | undefined, task: string): PeftSettings | null {
  if (adapter !== undefined) {
    if (peft !== undefined) throw new UsageError("adapter continues a saved adapter: it cannot be combined with peft (--peft, --peft-config, --lora-…)");
    readAdapterConfig(adapter);
    return null;
  }
  if (peft === undefined) return null;
  const raw: Record<string, unknown> = typeof peft === "string" ? { peft_type: peft } : { ...(peft as Record<string, unknown>) };
  if (raw.peft_type === undefined) {
    throw new PeftConfigError("peft", "peft_type",
      "say which adapter to train with --peft (lora, ia3, prompt_tuning, prefix_tuning, bottleneck) or peft_type");
  }
  raw.peft_type = String(raw.peft_type).toUpperCase().replace(/-/g, "_");
  // A new adapter for this run's task; a file's own task_type is kept.
  raw.task_type ??= task === "token-classification" ? "TOKEN_CLS" : "SEQ_CLS";
  return parsePeftConfig(raw, "peft");
}

export interface RunAdapter {
  adapter: AppliedAdapter;
  files: ModelFiles;
}

/** Attach the run's adapter (new, or the saved folder) and say how much of the model trains. */
export async function setupRunAdapter(
  model: TaskModel, o: { settings: PeftSettings | null; adapter?: string; seed: number; baseModel: string; labels?: readonly string[]; tok?: Tokenizer },
  log: (line: string) => void,
): Promise<RunAdapter | null> {
  const { settings } = o;
  if (!settings && !o.adapter) return null;
  // PEFT tokenizes prompt_tuning_init_text with the special tokens.
  const text = settings?.peft_type === "PROMPT_TUNING" && settings.prompt_tuning_init === "TEXT" ? settings.prompt_tuning_init_text : null;
  const textIds = text !== null && o.tok ? (await o.tok.encode(text, null, { addSpecialTokens: true })).ids : undefined;
  const adapter = o.adapter ? await loadAdapter(model, o.adapter, o.seed) : attachAdapter(model, settings!, o.seed, false, textIds);
  for (const n of adapter.notes) log(`${adapter.settings.peft_type}: ${n}`);
  const all = model.parameters().reduce((s, p) => s + p.size, 0);
  const trainable = model.parameters().filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
  log(`${adapter.settings.peft_type} adapter: trainable params: ${trainable} || all params: ${all} || trainable%: ${(100 * trainable / all).toFixed(4)}`);
  return { adapter, files: adapterModelFiles(model, adapter, o.baseModel, { labels: o.labels }) };
}
