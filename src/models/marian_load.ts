// Loading a Marian translation checkpoint: config.json, generation_config.json, the weights
// (safetensors, sharded, or pytorch_model.bin through the restricted unpickler) and its tokenizer.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { resolveModel, type ResolveModelOptions } from "../io/hub.js";
import type { RawTensor } from "../io/raw_tensor.js";
import { toFloat32 } from "../io/raw_tensor.js";
import { readModelWeights } from "../io/sharded.js";
import { isMarianTokenizerDir, loadMarianTokenizer, type MarianTokenizer } from "../tokenizers/marian_tokenizer.js";
import { readGenerationConfig, readObject, type GenerationConfig } from "./generation_config.js";
import { MarianMTModel, marianConfig, type MarianConfig } from "./marian.js";

export interface MarianPretrained {
  model: MarianMTModel;
  tokenizer: MarianTokenizer;
  config: MarianConfig;
  /** The checkpoint's generation defaults (generation_config.json, else config.json). */
  generationConfig: GenerationConfig;
  dir: string;
  /** Checkpoint keys no parameter takes: copies of the shared embedding, stored position tables. */
  unused: string[];
}

// Other names the one shared embedding is stored under (copies that tie to model.shared.weight).
const SHARED_ALIASES = ["model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"];

function readRawConfig(dir: string): Record<string, unknown> {
  return readObject(join(dir, "config.json"));
}

/** Copy a checkpoint's tensors into the model; every parameter must be there with its shape. */
export function loadMarianWeights(model: MarianMTModel, tensors: Map<string, RawTensor>, source: string): string[] {
  // A base MarianModel checkpoint has no "model." prefix.
  const prefixed = [...tensors.keys()].some((k) => k.startsWith("model."));
  const lookup = (name: string): string | undefined => {
    const candidates = [name, ...(prefixed ? [] : [name.replace(/^model\./, "")])];
    if (name === "model.shared.weight")
      candidates.push(...SHARED_ALIASES, "shared.weight", "encoder.embed_tokens.weight");
    return candidates.find((k) => tensors.has(k));
  };
  const used = new Set<string>();
  for (const [name, p] of model.namedParameters()) {
    const key = lookup(name);
    if (key === undefined) {
      if (name === "final_logits_bias") {
        p.data.fill(0); // transformers registers it as a zero buffer when the checkpoint lacks it
        continue;
      }
      throw new WhetError(
        `loading ${source}: the checkpoint has no "${name}" (expected shape [${p.shape.join(", ")}])`,
      );
    }
    const raw = tensors.get(key)!;
    if (raw.shape.length !== p.shape.length || raw.shape.some((d, i) => d !== p.shape[i])) {
      throw new WhetError(
        `loading ${source}: cannot load "${key}": expected [${p.shape.join(", ")}], got [${raw.shape.join(", ")}]`,
      );
    }
    p.data = Float32Array.from(toFloat32(raw));
    used.add(key);
  }
  return [...tensors.keys()].filter((k) => !used.has(k));
}

/**
 * A MarianMT checkpoint (Hub id `Helsinki-NLP/opus-mt-en-de` or a local folder) with its
 * tokenizer and generation defaults. A checkpoint of another kind is refused with the reason.
 *
 * @example
 * const { model, tokenizer, generationConfig } = await loadMarian("Helsinki-NLP/opus-mt-en-de");
 */
export async function loadMarian(idOrPath: string, opts: ResolveModelOptions = {}): Promise<MarianPretrained> {
  const dir = await resolveModel(idOrPath, opts);
  const raw = readRawConfig(dir);
  if (raw.model_type !== "marian") {
    const arch = Array.isArray(raw.architectures) ? ` (${raw.architectures.join(", ")})` : "";
    throw new WhetError(
      `"${idOrPath}" is not a MarianMT translation model: its config.json has model_type ${JSON.stringify(raw.model_type)}${arch}; translation needs a Marian checkpoint such as Helsinki-NLP/opus-mt-en-de`,
    );
  }
  if (!isMarianTokenizerDir(dir)) {
    const missing = ["source.spm", "target.spm", "vocab.json"].filter((f) => !existsSync(join(dir, f)));
    throw new WhetError(`"${idOrPath}" has no MarianTokenizer files: ${missing.join(", ")} missing in ${dir}`);
  }
  const config = marianConfig(raw);
  const generationConfig = readGenerationConfig(dir, raw);
  const tokenizer = loadMarianTokenizer(dir);
  const model = new MarianMTModel(config);
  const { tensors, file } = await readModelWeights(dir);
  const unused = loadMarianWeights(model, tensors, file);
  return { model, tokenizer, config, generationConfig, dir, unused };
}
