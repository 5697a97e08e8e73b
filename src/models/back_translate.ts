/**
 * Back-translation (Sennrich et al. 2016; nlpaug's BackTranslationAug): translate a text into a
 * pivot language and back with two MarianMT checkpoints, for paraphrases that keep the label.
 * `en-de` names Helsinki-NLP/opus-mt-en-de and Helsinki-NLP/opus-mt-de-en; any two models
 * (folders or Hub ids) may be given instead. Decoding is beam search with the checkpoints'
 * generation_config.json defaults (num_beams may be overridden); whet's generate() has no
 * sampling, so each text gets one paraphrase. Outputs equal to their input are the caller's to drop.
 *
 * @example
 * const bt = await BackTranslator.load({ backTranslate: "en-de" });
 * await bt.paraphrase(["The film was a delight."]); // ["The film was a pleasure."]
 * await bt.release();
 */
import { WhetError } from "../core/errors.js";
import { Translator, type TranslateOptions } from "./translate.js";

export interface BackTranslationOptions {
  /** "src-pivot", e.g. "en-de": the Helsinki-NLP opus-mt models for both directions. */
  backTranslate?: string;
  /** Or the two models: source → pivot, pivot → source. */
  pivotModels?: readonly string[];
  numBeams?: number;
  batchSize?: number;
  threads?: number;
  /** Spells an option as the user typed it, for messages. */
  flag?: (key: string) => string;
}

/** The two model ids or folders the options name. */
export function pivotModelIds(o: BackTranslationOptions): [string, string] {
  const flag = o.flag ?? ((k: string) => k);
  if ((o.backTranslate === undefined) === (o.pivotModels === undefined)) {
    throw new WhetError(`back-translation: give exactly one of ${flag("back_translate")} (e.g. en-de) ` +
      `and ${flag("pivot_models")} (two models: source to pivot, pivot to source)`);
  }
  if (o.pivotModels !== undefined) {
    if (o.pivotModels.length !== 2) {
      throw new WhetError(`back-translation: ${flag("pivot_models")} takes two models ` +
        `(source to pivot, pivot to source), ` +
        `got ${o.pivotModels.length}: ${o.pivotModels.join(", ")}`);
    }
    return [o.pivotModels[0], o.pivotModels[1]];
  }
  const m = /^([a-z]{2,3}(?:_[A-Za-z]+)?)-([a-z]{2,3}(?:_[A-Za-z]+)?)$/.exec(o.backTranslate!);
  if (!m) {
    throw new WhetError(`back-translation: ${flag("back_translate")} must look like "en-de", got "${o.backTranslate}"`);
  }
  return [`Helsinki-NLP/opus-mt-${m[1]}-${m[2]}`, `Helsinki-NLP/opus-mt-${m[2]}-${m[1]}`];
}

export class BackTranslator {
  private constructor(private readonly there: Translator, private readonly back: Translator,
    private readonly options: TranslateOptions) {}

  static async load(o: BackTranslationOptions): Promise<BackTranslator> {
    const [a, b] = pivotModelIds(o);
    const there = await Translator.load(a, { threads: o.threads });
    try {
      const back = await Translator.load(b, { threads: o.threads });
      const options: TranslateOptions = {
        batchSize: o.batchSize ?? 8, ...(o.numBeams ? { numBeams: o.numBeams } : {}),
      };
      return new BackTranslator(there, back, options);
    } catch (e) {
      await there.release();
      throw e;
    }
  }

  /** One round trip per text, in order. */
  async paraphrase(texts: readonly string[]): Promise<string[]> {
    const pivot = await this.there.translate(texts, this.options);
    const back = await this.back.translate(pivot.map((p) => p.translation), this.options);
    return back.map((r) => r.translation);
  }

  async release(): Promise<void> {
    await this.there.release();
    await this.back.release();
  }
}
