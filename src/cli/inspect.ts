/**
 * `whet inspect DATA`: the data report `whet train` prints, without training — for text
 * classification (CSV, TSV, JSON Lines: label balance, duplicates, conflicting labels, lengths)
 * and token classification (CoNLL `token<TAB>tag` or JSON Lines with tokens/ner_tags: tag
 * counts, sentences, IOB2 check). Token lengths need a tokenizer, so they appear only with
 * --model. `--json` prints one JSON object for scripts.
 *
 * @example
 * whet inspect train.csv --model prajjwal1/bert-mini --max-length 64
 * whet inspect wnut17train.conll --json | jq .iob2.violations
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { formatTokenReport, inspectFile, type InspectOptions, type TextReport, type TokenReport } from "../data/inspect_data.js";
import { formatReport } from "../data/report.js";
import { resolveModel } from "../io/hub.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { runConfigJsonSchema } from "./run_schema.js";
import { style } from "./style.js";

export type { InspectOptions, TextReport, TokenReport } from "../data/inspect_data.js";

/** The report `whet inspect` prints, for a table or a token-classification file. */
export async function inspectData(data: string, o: InspectOptions = {}): Promise<TextReport | TokenReport> {
  const tok = o.model ? await loadTokenizer(await resolveModel(o.model)) : null;
  return inspectFile(data, o, tok, o.maxLength ?? defaultMaxLength());
}

/** For the terminal: a heading naming what was read, then one finding per line. */
export function formatInspect(data: string, report: TextReport | TokenReport, s = style(process.stdout)): string {
  const kind = report.task === "text-classification"
    ? `text classification (${report.format}; text column "${report.textColumn}", ${report.labelColumn === null ? "no label column: unlabelled" : `label column "${report.labelColumn}"`})`
    : `token classification (${report.format === "conll" ? "CoNLL" : "JSON Lines"})`;
  const body = report.task === "text-classification" ? formatReport(report) : formatTokenReport(report);
  return [
    s.bold(data) + s.dim(`: ${kind}`),
    // Bold each finding's name ("Duplicates:"), leaving examples (indented lines) plain.
    ...body.split("\n").map((l) => l.replace(/^([A-Z][^:]*:)/, (m) => s.bold(m))),
    ...(report.lengths ? [] : [s.dim("(token lengths: pass --model to count them with the model's tokenizer)")]),
  ].join("\n");
}

const defaultMaxLength = () => runConfigJsonSchema().properties.max_length.default as number;

export function inspectCommand(): Command {
  return new Command("inspect")
    .description("report on a data file without training: labels, duplicates, conflicts, lengths; CoNLL tags and IOB2")
    .argument("<data>", "a .csv, .tsv or .jsonl table, or a CoNLL file (token<TAB>tag lines)")
    .option("--text-column <name>", "column holding the text (default text)")
    .option("--text-pair-column <name>", "column holding the second text of a pair")
    .option("--label-column <name>", "column holding the label (default label; a file without it is read as unlabelled)")
    .option("--label-separator <sep>", "multi-label: separator inside the label field (e.g. \"|\")")
    .option("--quote [char]", "CSV/TSV quote character (default \" for CSV; for TSV only when the file is clearly quoted)")
    .option("--no-quote", "read CSV/TSV fields as they are: \" is plain text (GLUE-style TSV)")
    .option("--no-header", "the CSV/TSV has no header row: name columns by position (--text-column 0 --label-column 1)")
    .option("--model <dir-or-id>", "count tokens with this model's tokenizer (special tokens included)")
    .option("--max-length <n>", `the max_length to check truncation against (default ${defaultMaxLength()})`, positiveInt)
    .addOption(new Option("--format <format>", "file format (default: from the extension and content)").choices(["csv", "tsv", "jsonl", "conll"]))
    .option("--json", "print the report as one JSON object")
    .action(async (data: string, o: InspectOptions & { json?: boolean }) => {
      const report = await inspectData(data, o);
      console.log(o.json ? JSON.stringify(report) : formatInspect(data, report));
    });
}

/** commander reports an InvalidArgumentError as a usage error (exit 2) naming the option. */
function positiveInt(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive integer.");
  return n;
}
