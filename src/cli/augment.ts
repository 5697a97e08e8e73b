import { Command, InvalidArgumentError, Option } from "commander";
import { WhetError } from "../core/errors.js";
import { augmentFile } from "../data/augment/augment_file.js";
import { AUGMENT_METHODS, parseAugmentSpec, type AugmentSpec } from "../data/augment/augment_spec.js";
import { BackTranslator } from "../models/back_translate.js";

/** A spec key as `whet augment` spells it. */
const FLAGS: Record<string, string> = { dictionaries: "--dictionary", pivot_models: "--pivot-models" };
const flagOf = (key: string) => FLAGS[key] ?? `--${key.replace(/_/g, "-")}`;

const num = (v: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
};
const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

const EPILOG = `
Methods:
  eda               EDA (Wei & Zou 2019): WordNet synonym replacement, random insertion, swap, deletion
  template          labelled examples from a YAML file of templates with {slots} (--templates)
  code-switch       CoSDA-ML: words replaced by dictionary translations (--dictionary, repeatable)
  back-translation  round trip through a pivot language with MarianMT (--back-translate en-de)
The output keeps every input row and adds augmented rows with the source row's label and a
provenance column ("eda:12": made by EDA from data row 12, 0-based; "original" for input rows);
augmented texts equal to an existing text are dropped. Token classification (--task
token-classification, CoNLL or JSONL in, JSONL out) supports eda (synonym replacement of single
words tagged O) and code-switch (word for word): both keep one tag per token.`;

export function augmentCommand(): Command {
  const cmd = new Command("augment")
    .description("augment a training file: EDA, templates, code-switching, back-translation")
    .addOption(new Option("--method <method>", "augmentation method").choices(AUGMENT_METHODS).makeOptionMandatory())
    .option("--input <file>", "training data (.csv, .tsv, .jsonl; CoNLL for token classification)")
    .requiredOption("--output <file>", "augmented data (.csv, .tsv, .jsonl); written to a temporary name, then renamed")
    .option("--seed <n>", "random seed: the same seed gives the same output", num, 42)
    .addOption(new Option("--task <task>", "kind of data").choices(["sequence-classification", "token-classification"]))
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default label)")
    .option("--label-separator <sep>", "multi-label: separator inside the label field")
    .option("--provenance-column <name>", "name of the added provenance column (default provenance)")
    .addOption(new Option("--pair <which>", "text pairs: augment the first text or both (default first)")
      .choices(["first", "both"]))
    .option("--num-aug <n>", "augmented rows per input row (eda: 4, others: 1)", num)
    .option("--alpha-sr <x>", "eda: share of words replaced by synonyms (0.1)", num)
    .option("--alpha-ri <x>", "eda: share of words inserted (0.1)", num)
    .option("--alpha-rs <x>", "eda: share of words swapped (0.1)", num)
    .option("--p-rd <x>", "eda: probability of deleting each word (0.1)", num)
    .option("--templates <file>", "template: YAML file of templates and slots")
    .option("--max-per-template <n>", "template: examples per template at most (100)", num)
    .option("--dictionary <file>", "code-switch: MUSE dictionary, \"src tgt\" per line (repeat; lang=FILE names it)",
      collect)
    .option("--ratio <x>", "code-switch: probability that a sentence is switched (1.0)", num)
    .option("--cross <x>", "code-switch: probability that a word is replaced (0.9)", num)
    .option("--back-translate <src-pivot>", "back-translation: e.g. en-de (Helsinki-NLP/opus-mt-en-de and -de-en)")
    .option("--pivot-models <a,b>", "back-translation: the two translation models, comma-separated",
      (v: string) => v.split(","))
    .option("--num-beams <n>", "back-translation: beam width (default: the models' generation config)", num)
    .addHelpText("after", EPILOG);
  return cmd.action(async (o: Record<string, unknown>) => {
    let spec: AugmentSpec;
    try {
      spec = parseAugmentSpec({
        method: o.method, num_aug: o.numAug, pair: o.pair,
        alpha_sr: o.alphaSr, alpha_ri: o.alphaRi, alpha_rs: o.alphaRs, p_rd: o.pRd,
        templates: o.templates, max_per_template: o.maxPerTemplate, dictionaries: o.dictionary, ratio: o.ratio,
        cross: o.cross, back_translate: o.backTranslate, pivot_models: o.pivotModels, num_beams: o.numBeams,
      }, flagOf);
    } catch (e) {
      if (e instanceof WhetError) cmd.error(`error: ${e.message}`, { exitCode: 2, code: "commander.augment" });
      throw e;
    }
    const bt = spec.method === "back-translation" ? await BackTranslator.load({
      backTranslate: spec.back_translate, pivotModels: spec.pivot_models, numBeams: spec.num_beams, flag: flagOf,
    }) : null;
    const backTranslate = bt ? async (texts: string[]) => (await bt.paraphrase(texts)).map((t) => [t]) : undefined;
    const { summary, skipped } = await augmentFile({
      input: o.input as string | undefined, output: o.output as string, spec, seed: o.seed as number,
      flag: flagOf, backTranslate,
      task: o.task as "token-classification" | undefined, textColumn: o.textColumn as string | undefined,
      textPairColumn: o.textPairColumn as string | undefined, labelColumn: o.labelColumn as string | undefined,
      labelSeparator: o.labelSeparator as string | undefined,
      provenanceColumn: o.provenanceColumn as string | undefined,
    }).finally(() => bt?.release());
    if (skipped && skipped.count > 0) {
      const reasons = Object.entries(skipped.byReason).map(([r, n]) => `${r}: ${n}`).join(", ");
      console.error(`skipped ${skipped.count} input rows (${reasons})`);
    }
    console.log(`${summary.method}: ${summary.rows_before} rows -> ${summary.rows_after} (${summary.added} added, ` +
      `${summary.duplicates_dropped} duplicates dropped); wrote ${o.output as string}`);
  });
}
