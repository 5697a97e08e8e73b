// The glue between models and adapters (peft/ works on the bare Module tree): attach a new or a
// saved adapter to a task model, and the files a Trainer writes for a model with an adapter.
import { existsSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { numLabels, readConfig, type PretrainedConfig } from "../io/config.js";
import type { RawTensor } from "../io/safetensors.js";
import { FAMILIES, type TaskModel } from "../models/auto.js";
import { BertForTokenClassification, BertModel, BertResidualOutput } from "../models/bert.js";
import { DistilBertForTokenClassification, DistilBertModel } from "../models/distilbert.js";
import { RobertaForTokenClassification } from "../models/roberta.js";
import type { Parameter } from "../nn/parameter.js";
import { attachBottlenecks } from "../peft/bottleneck.js";
import { applyPrefix } from "../peft/prefix.js";
import { applyPrompt } from "../peft/prompt.js";
import { configForSave, type SaveOptions } from "../models/save.js";
import { copyAdapterTensors, readAdapterConfig, readAdapterTensors, saveAdapter } from "../peft/adapter_files.js";
import { applyAdapter, effectiveModulesToSave, freezeBase, type AppliedAdapter } from "../peft/apply.js";
import { PeftConfigError, type BottleneckPeftSettings, type PeftSettings, type PromptSettings } from "../peft/config.js";
import type { ModelFiles } from "./checkpoint.js";

/**
 * Attach a fresh adapter (weights drawn from `seed` as PEFT initialises them). `loading`: the
 * weights come from a saved file next, which PEFT loads as inference-mode configs (a projected
 * prefix table, without its MLP).
 */
export function attachAdapter(model: TaskModel, s: PeftSettings, seed: number, loading = false, textIds?: readonly number[]): AppliedAdapter {
  if (s.peft_type === "LORA" || s.peft_type === "IA3") return applyAdapter(model, s, seed);
  const type = model.config.model_type;
  const base = (model as unknown as Record<string, unknown>)[FAMILIES[type].prefix];
  if (s.peft_type === "PROMPT_TUNING" && (s.task_type === "TOKEN_CLS" || isTokenModel(model))) {
    // PeftModelForTokenClassification prepends the prompt and returns n + T logits per row against T labels.
    throw new PeftConfigError("PROMPT_TUNING", "peft_type", "PEFT runs prompt tuning for sequence classification only (for token "
      + "classification its logits cover the virtual tokens too and do not line up with the labels); use LORA, IA3 or PREFIX_TUNING");
  }
  if (s.peft_type === "PROMPT_TUNING" && (base instanceof BertModel || base instanceof DistilBertModel)) {
    const hidden = base instanceof BertModel ? base.config.hidden_size : base.config.dim;
    const words = (base.embeddings as unknown as { word_embeddings: { weight: { data: Float32Array } } }).word_embeddings.weight.data;
    // Loading: the file's table replaces the init, so TEXT init (which needs the tokenizer) is skipped.
    const init = loading ? { ...s, prompt_tuning_init: "RANDOM" as const } : s;
    const { adapter, source } = applyPrompt(model, withModelDims(init, base), { hidden, textIds, wordEmbeddings: words }, seed);
    base.prompt = source;
    return { ...adapter, settings: withModelDims(s, base) };
  }
  if (s.peft_type === "BOTTLENECK" && base instanceof BertModel) return attachBottleneckAdapter(model, s, seed);
  if (s.peft_type === "PREFIX_TUNING" && base instanceof BertModel) {
    const c = base.config;
    const dims = { layers: c.num_hidden_layers, heads: c.num_attention_heads, hidden: c.hidden_size };
    const { adapter, source } = applyPrefix(model, withModelDims(s, base), dims, seed, s.prefix_projection && !loading);
    base.prefix = source;
    return adapter;
  }
  if (s.peft_type === "PREFIX_TUNING" && base instanceof DistilBertModel) {
    // PEFT: "Model does not support past key values which are required for prefix tuning."
    throw new PeftConfigError("PREFIX_TUNING", "peft_type", "DistilBERT's attention takes no past keys and values, which prefix "
      + "tuning needs (PEFT refuses it too); use PROMPT_TUNING, LORA or IA3");
  }
  throw new PeftConfigError(s.peft_type, "peft_type", `${s.peft_type} is not implemented for model_type "${type}" (whet has LORA and IA3 `
    + "for every model, PROMPT_TUNING for BERT, RoBERTa, XLM-R and DistilBERT, PREFIX_TUNING and BOTTLENECK for BERT, RoBERTa and XLM-R)");
}

/**
 * PEFT's _prepare_prompt_learning_config: num_layers, token_dim, num_attention_heads (and, for
 * prefix tuning, encoder_hidden_size) come from the base model when the config leaves them out, and
 * are written to adapter_config.json. PEFT reads them from num_hidden_layers / hidden_size only, so
 * a DistilBERT user must give them there; whet reads DistilBERT's n_layers / dim / n_heads too. Values
 * the config does give are checked against the model (applyPrompt, applyPrefix).
 */
function withModelDims(s: PromptSettings, base: BertModel | DistilBertModel): PromptSettings {
  const [layers, hidden, heads] = base instanceof BertModel
    ? [base.config.num_hidden_layers, base.config.hidden_size, base.config.num_attention_heads]
    : [base.config.n_layers, base.config.dim, base.config.n_heads];
  const out = { ...s, num_layers: s.num_layers ?? layers, token_dim: s.token_dim ?? hidden, num_attention_heads: s.num_attention_heads ?? heads };
  if (s.peft_type === "PREFIX_TUNING") out.encoder_hidden_size = s.encoder_hidden_size ?? out.token_dim;
  return out;
}

function isTokenModel(model: TaskModel): boolean {
  return [BertForTokenClassification, RobertaForTokenClassification, DistilBertForTokenClassification].some((c) => model instanceof c);
}

/** Bottlenecks after each feed-forward block (seq_bn), and after each attention block too (double_seq_bn). */
function attachBottleneckAdapter(model: TaskModel, s: BottleneckPeftSettings, seed: number): AppliedAdapter {
  const mts = effectiveModulesToSave(s);
  const saved = freezeBase(model, s, mts);
  const wanted = s.architecture === "seq_bn" ? /\.layer\.\d+\.output$/ : /\.layer\.\d+\.(attention\.)?output$/;
  const sites = model.namedModules().filter(([n, m]) => m instanceof BertResidualOutput && wanted.test(n))
    .map(([path, owner]) => ({ path, owner, hidden: (owner as BertResidualOutput).dense.outFeatures }));
  const blocks = attachBottlenecks(sites, s, seed);
  sites.forEach((site, i) => ((site.owner as BertResidualOutput).hook = blocks[i]));
  const tensors = new Map<string, Parameter>();
  for (const [name, p] of model.namedParameters()) {
    if (name.includes(".adapters.")) tensors.set(`base_model.model.${name}`, p);
  }
  for (const [k, p] of saved) tensors.set(k, p);
  return { settings: s, modulesToSave: mts, tensors, wrapped: [], notes: [] };
}

/**
 * Load an adapter folder written by PEFT (or whet) onto `model`, as PeftModel.from_pretrained:
 * the config applies the adapter, then every tensor of adapter_model.safetensors is copied in.
 *
 * @example
 * const { model } = await fromPretrained("base");
 * const adapter = await loadAdapter(model, "my-adapter");
 */
export async function loadAdapter(model: TaskModel, dir: string, seed = 42): Promise<AppliedAdapter> {
  const s = readAdapterConfig(dir);
  const tensors = await readAdapterTensors(dir);
  const a = attachAdapter(model, s, seed, true);
  copyAdapterTensors(a, tensors, dir);
  return a;
}

/** The label count of the classification head an adapter saves (modules_to_save), if it saves one. */
export function savedHeadLabels(tensors: Map<string, RawTensor>): number | null {
  for (const [k, t] of tensors) {
    if (/(^|\.)(classifier(\.out_proj)?|score)\.weight$/.test(k) && t.shape.length === 2) return t.shape[0];
  }
  return null;
}

/**
 * The labels of the head an adapter saves, as config overrides for its base: the config.json a whet
 * run writes beside the adapter, else LABEL_i names when the saved head's size differs from the base's.
 */
export async function adapterLabelOverrides(adapter: string, base: PretrainedConfig): Promise<Partial<PretrainedConfig>> {
  readAdapterConfig(adapter);
  if (existsSync(join(adapter, "config.json"))) {
    const c = readConfig(adapter);
    if (c.id2label) return { id2label: c.id2label, label2id: c.label2id, problem_type: c.problem_type, num_labels: undefined };
  }
  const n = savedHeadLabels(await readAdapterTensors(adapter));
  if (n === null || n === numLabels(base)) return {};
  return { id2label: Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `LABEL_${i}`])), label2id: undefined, num_labels: undefined };
}

/**
 * What a Trainer saves and restores for a model with an adapter: the adapter files (only the
 * trainable tensors), plus the base's config.json with the run's labels so that the folder tells
 * `--adapter` users the label names.
 */
export function adapterModelFiles(model: TaskModel, a: AppliedAdapter, baseModel: string | null, save: SaveOptions = {}): ModelFiles {
  return {
    save: async (dir) => {
      await saveAdapter(dir, a, baseModel);
      const tmp = join(dir, `.config.json.${process.pid}.tmp`);
      await writeFile(tmp, JSON.stringify(configForSave(model, save), null, 2) + "\n");
      await rename(tmp, join(dir, "config.json"));
    },
    load: async (dir) => copyAdapterTensors(a, await readAdapterTensors(dir), dir),
  };
}
