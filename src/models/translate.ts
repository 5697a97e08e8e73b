// Translation with a MarianMT checkpoint: tokenize, generate, decode, in batches; what the
// `translate` command and back-translation call. transformers' TranslationPipeline is the model:
// the checkpoint's generation_config.json gives the defaults, the caller's options win.
import { WhetError } from "../core/errors.js";
import type { ResolveModelOptions } from "../io/hub.js";
import type { MarianTokenizer } from "../tokenizers/marian_tokenizer.js";
import { generate } from "./generate.js";
import { withOptions, type GenerateOptions, type GenerationConfig } from "./generation_config.js";
import type { MarianMTModel } from "./marian.js";
import { loadMarian } from "./marian_load.js";
import { MarianRunner } from "./marian_runner.js";

export interface TranslateOptions extends GenerateOptions {
  /** Texts per generate() call (default 8). */
  batchSize?: number;
  /** Called after each batch with the number of texts translated so far. */
  onBatch?: (done: number, total: number) => void;
}

export interface Translation {
  /** The source text. */
  text: string;
  /** The decoded output (special tokens skipped, tokenization spaces cleaned up). */
  translation: string;
  /** The generated ids after the decoder start token, up to and including </s>, no padding. */
  ids: number[];
}

export interface LoadTranslatorOptions extends ResolveModelOptions {
  /** ONNX Runtime intra-op threads (default: ONNX Runtime's choice). */
  threads?: number;
}

/**
 * A loaded and compiled Marian model: load once, translate many batches, release at the end.
 *
 * @example
 * const t = await Translator.load("Helsinki-NLP/opus-mt-en-de");
 * const [r] = await t.translate(["The house is small."], { numBeams: 4 });
 * r.translation; // "Das Haus ist klein."
 * await t.release();
 */
export class Translator {
  private constructor(
    readonly model: MarianMTModel,
    readonly tokenizer: MarianTokenizer,
    readonly generationConfig: GenerationConfig,
    private readonly runner: MarianRunner,
  ) {}

  static async load(idOrPath: string, opts: LoadTranslatorOptions = {}): Promise<Translator> {
    const { model, tokenizer, generationConfig } = await loadMarian(idOrPath, opts);
    return new Translator(
      model,
      tokenizer,
      generationConfig,
      await MarianRunner.compile(model, { threads: opts.threads }),
    );
  }

  /** Translate texts in order; inputs longer than the model takes are truncated (</s> kept). */
  async translate(texts: readonly string[], o: TranslateOptions = {}): Promise<Translation[]> {
    const cfg = withOptions(this.generationConfig, o);
    const batchSize = o.batchSize ?? 8;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new WhetError(`translate: batch size must be a positive integer, got ${batchSize}`);
    texts.forEach((t, i) => {
      if (typeof t !== "string") throw new WhetError(`translate: text ${i} is not a string (${typeof t})`);
    });
    const maxLength = Math.min(this.tokenizer.modelMaxLength, this.model.config.max_position_embeddings);
    const out: Translation[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const chunk = texts.slice(start, start + batchSize);
      const batch = await this.tokenizer.encodeBatch(chunk, { maxLength });
      const gen = await generate(this.runner, batch.inputIds, batch.attentionMask, cfg);
      gen.tokens.forEach((ids, i) => out.push({ text: chunk[i], translation: this.tokenizer.decode(ids), ids }));
      o.onBatch?.(out.length, texts.length);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.runner.release();
  }
}

/**
 * Translate texts with a Marian checkpoint (a Hub id, a local folder, or a loaded Translator,
 * which is then left open for more calls).
 *
 * @example
 * const de = await translate("Helsinki-NLP/opus-mt-en-de", ["Hello world"], { numBeams: 4, maxNewTokens: 64 });
 * const back = await translate("Helsinki-NLP/opus-mt-de-en", de.map((r) => r.translation));
 */
export async function translate(
  model: string | Translator,
  texts: readonly string[],
  options: TranslateOptions & LoadTranslatorOptions = {},
): Promise<Translation[]> {
  if (model instanceof Translator) return model.translate(texts, options);
  const t = await Translator.load(model, options);
  try {
    return await t.translate(texts, options);
  } finally {
    await t.release();
  }
}
