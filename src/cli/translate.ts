import { Command } from "commander";
import { rename, writeFile } from "node:fs/promises";
import { WhetError } from "../core/errors.js";
import { readCorpus } from "../data/corpus.js";
import type { EarlyStopping } from "../models/generation_config.js";
import { Translator } from "../models/translate.js";

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new WhetError(`${flag} must be a positive integer, got "${v}"`);
    return n;
  };
}

function finiteNumber(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new WhetError(`${flag} must be a number, got "${v}"`);
    return n;
  };
}

function earlyStopping(v: string): EarlyStopping {
  if (v === "true") return true;
  if (v === "false") return false;
  if (v === "never") return "never";
  throw new WhetError(`--early-stopping must be true, false or never, got "${v}"`);
}

/**
 * `whet translate`: a MarianMT checkpoint translates every line of a text file (or the "text"
 * field of a JSON Lines file) into JSON Lines {"text", "translation", "ids"}. Generation defaults
 * come from the checkpoint's generation_config.json, as in transformers; the flags override them.
 */
export function translateCommand(): Command {
  return new Command("translate")
    .description(
      "translate texts with a MarianMT (Helsinki-NLP opus-mt) model; writes JSON Lines {text, translation, ids}",
    )
    .requiredOption("--model <dir-or-id>", "Marian model folder or Hub id (e.g. Helsinki-NLP/opus-mt-en-de)")
    .requiredOption("--input <file>", 'texts: .txt (one per line) or .jsonl (a "text" field per line)')
    .requiredOption("--output <file>", "JSON Lines file to write")
    .option(
      "--num-beams <n>",
      "beam width (1: greedy); default the model's generation_config.json",
      positiveInt("--num-beams"),
    )
    .option("--max-new-tokens <n>", "tokens to generate at most, </s> included", positiveInt("--max-new-tokens"))
    .option(
      "--length-penalty <x>",
      "exponent of the length in beam scores (> 0 favours longer outputs)",
      finiteNumber("--length-penalty"),
    )
    .option("--early-stopping <when>", "beam search: true, false or never", earlyStopping)
    .option("--do-sample", "sample instead of searching (one beam; --temperature, --top-k, --top-p, --seed)")
    .option("--temperature <x>", "sampling: divide the logits by this", finiteNumber("--temperature"))
    .option("--top-k <n>", "sampling: keep the k most likely tokens (default 50, 0: all)", Number)
    .option("--top-p <x>", "sampling: keep the most likely tokens up to this probability mass", finiteNumber("--top-p"))
    .option("--seed <n>", "sampling: seed of the random stream", Number)
    .option("--batch-size <n>", "texts per batch", positiveInt("--batch-size"), 8)
    .option("--text-field <name>", "JSON Lines input: the field holding the text", "text")
    .option("--threads <n>", "ONNX Runtime threads", positiveInt("--threads"))
    .action(async (o) => {
      const texts = await readCorpus(o.input, { textField: o.textField });
      const translator = await Translator.load(o.model, { threads: o.threads });
      const started = Date.now();
      let results;
      try {
        results = await translator.translate(texts, {
          maxNewTokens: o.maxNewTokens,
          lengthPenalty: o.lengthPenalty,
          earlyStopping: o.earlyStopping,
          doSample: o.doSample,
          temperature: o.temperature,
          topK: o.topK,
          topP: o.topP,
          seed: o.seed,
          numBeams: o.doSample && o.numBeams === undefined ? 1 : o.numBeams,
          batchSize: o.batchSize,
          onBatch: (done, total) => process.stderr.write(`translated ${done}/${total}\n`),
        });
      } finally {
        await translator.release();
      }
      // Nothing half-written: the whole file under a temporary name, then renamed.
      const tmp = `${o.output}.tmp-${process.pid}`;
      await writeFile(tmp, results.map((r) => JSON.stringify(r)).join("\n") + (results.length ? "\n" : ""));
      await rename(tmp, o.output);
      const tokens = results.reduce((n, r) => n + r.ids.length, 0);
      const seconds = (Date.now() - started) / 1000;
      console.log(
        JSON.stringify({
          output: o.output,
          texts: results.length,
          generated_tokens: tokens,
          seconds: Number(seconds.toFixed(2)),
        }),
      );
    });
}
