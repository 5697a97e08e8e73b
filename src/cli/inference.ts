import { Command, Option } from "commander";
import { readFileSync } from "node:fs";
import { WhetError } from "../core/errors.js";
import { writeTextAtomic } from "../io/files.js";
import { checkOutputFile } from "../io/output_dir.js";
import { maxSequenceLength } from "../models/auto.js";
import { ForwardRunner } from "../models/forward.js";
import { AGGREGATION_STRATEGIES } from "../data/token_entities.js";
import { PREDICT_FORMATS } from "../data/predict_input.js";
import { predictFile } from "../recipes/predict.js";
import { checkFinite, checkInputRows, loadForInference, nested, padRows, rowsFromJsonl } from "./common.js";

/** `whet forward`: the raw model outputs, for inspection and parity checks. */
export function forwardCommand(): Command {
  return new Command("forward")
    .description("run the model in eval mode and write input ids, logits and the last hidden state as JSON")
    .requiredOption("--model <dir-or-id>", "model folder or Hub id (org/name[@revision])")
    .option("--adapter <dir>", "PEFT adapter folder to load onto --model")
    .requiredOption("--input <file>", 'JSONL: {"text", "text_pair"?} or {"input_ids", "attention_mask"?, "token_type_ids"?} per line')
    .requiredOption("--output <file>", "JSON file to write")
    .option("--max-length <n>", "truncate texts to this many tokens", Number)
    .option("--threads <n>", "ONNX Runtime threads", Number)
    .action(async (o) => {
      const m = await loadForInference(o.model, o.adapter);
      if (o.output !== "-") checkOutputFile(o.output, [o.input, m.dir, o.adapter], "--output");
      const rows = await rowsFromJsonl(o.input, m.tokenizer, o.maxLength, maxSequenceLength(m.model.config));
      if (rows.length === 0) throw new WhetError(`${o.input} holds no input`);
      checkInputRows(rows, m.model.config, o.input);
      const feeds = padRows(rows, m.tokenizer.padTokenId ?? 0, m.tokenTypes);
      const runner = await ForwardRunner.compile(m.model, { tokenTypes: m.tokenTypes, outputs: ["logits", "last_hidden_state"], threads: o.threads });
      const out = await runner.run(feeds);
      await runner.release();
      checkFinite(out.logits, "logit");
      checkFinite(out.last_hidden_state, "hidden state");
      await writeTextAtomic(o.output, JSON.stringify({
        input_ids: nested(feeds.input_ids),
        attention_mask: nested(feeds.attention_mask),
        logits: nested(out.logits),
        last_hidden_state: nested(out.last_hidden_state),
      }));
    });
}

/** `--quote` as the reader takes it: true (bare flag) is the double quote. */
const quoteOption = (q: unknown): string | false | undefined => (q === true ? "\"" : (q as string | false | undefined));

const INPUT_HELP = 'JSONL ({"text"}, {"tokens": [...]} or {"input_ids"}), CSV, TSV, .txt (one text per line) or .conll';

/** `whet predict`: one JSON line per input (label and score; entities and tags for NER), streamed. */
export function predictCommand(): Command {
  return new Command("predict")
    .description("predict each input (JSONL, CSV, TSV or text lines); writes one JSON line per input, streaming")
    .requiredOption("--model <dir-or-id>", "model folder or Hub id")
    .option("--adapter <dir>", "PEFT adapter folder to load onto --model")
    .requiredOption("--input <file>", INPUT_HELP)
    .requiredOption("--output <file>", "JSONL file to write; - for stdout")
    .addOption(new Option("--format <format>", "input format (default: from the extension)").choices(PREDICT_FORMATS))
    .option("--text-column <name>", "CSV/TSV column (JSONL key) holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--quote [char]", "CSV/TSV quote character (default \" for CSV; for TSV only when clearly quoted)")
    .option("--no-quote", "read CSV/TSV fields as they are: \" is plain text (GLUE-style TSV)")
    .option("--header", "the CSV/TSV starts with a header row naming the columns (default)")
    .option("--no-header", "the CSV/TSV has no header row: columns are 0, 1, … (--text-column 0 is the default then)")
    .addOption(new Option("--aggregation-strategy <strategy>", "token classification: how sub-word tags become " +
      "words and entities, as transformers' pipeline").choices(AGGREGATION_STRATEGIES).default("simple"))
    .option("--ignore-labels <labels>", "token classification: labels left out of the entities (comma list)", "O")
    .option("--logits", "include the logits")
    .option("--batch-size <n>", "inputs per forward pass", Number, 32)
    .option("--max-length <n>", "truncate texts to this many tokens", Number)
    .option("--threads <n>", "ONNX Runtime threads", Number)
    .action(async (o) => {
      const m = await loadForInference(o.model, o.adapter);
      if (o.output !== "-") checkOutputFile(o.output, [o.input, m.dir, o.adapter], "--output");
      const spec = {
        input: o.input, format: o.format, textColumn: o.textColumn, textPairColumn: o.textPairColumn,
        quote: quoteOption(o.quote), header: o.header, batchSize: o.batchSize, maxLength: o.maxLength,
        threads: o.threads, logits: o.logits, aggregationStrategy: o.aggregationStrategy,
        ignoreLabels: String(o.ignoreLabels).split(",").map((l) => l.trim()).filter(Boolean),
      };
      const { rows, seconds } = await predictFile(m, spec, o.output === "-" ? process.stdout : o.output);
      const rate = Math.round(rows / Math.max(seconds, 1e-9));
      const where = o.output === "-" ? "" : ` -> ${o.output}`;
      process.stderr.write(`predicted ${rows} rows in ${seconds.toFixed(1)} s (${rate} rows/s)${where}\n`);
    });
}

/** `whet tokenize`: ids (special tokens included) and tokens of each line of a text file. */
export function tokenizeCommand(): Command {
  return new Command("tokenize")
    .description("tokenize each line of a text file; prints one JSON line per text with ids and tokens")
    .requiredOption("--model <dir-or-id>", "model folder or Hub id (only the tokenizer is read)")
    .requiredOption("--input <file>", "text file, one text per line")
    .option("--max-length <n>", "truncate to this many tokens", Number)
    .action(async (o) => {
      const { resolveModel } = await import("../io/hub.js");
      const { loadTokenizer } = await import("../tokenizers/index.js");
      const tok = await loadTokenizer(await resolveModel(o.model));
      const lines = readFileSync(o.input, "utf8").split(/\r?\n/);
      if (lines.at(-1) === "") lines.pop();
      for (const text of lines) {
        const e = await tok.encode(text, null, o.maxLength ? { maxLength: o.maxLength, truncation: true } : {});
        process.stdout.write(JSON.stringify({ ids: e.ids, tokens: e.tokens }) + "\n");
      }
    });
}
