/**
 * A file in, an augmented file out: what `whet augment` does. Text classification reads CSV /
 * TSV / JSON Lines with readTable and writes the output's format (by its extension) with the
 * text, text pair, label and provenance columns; other input columns are not carried over. Token
 * classification reads CoNLL or JSON Lines with readConll and writes JSON Lines
 * (`tokens`, `ner_tags`, provenance), which `whet train --task token-classification` reads. The
 * output is written under a temporary name and renamed, so a failure leaves nothing behind.
 *
 * @example
 * const { summary } = await augmentFile({ input: "train.csv", output: "aug.csv", spec: { method: "eda" }, seed: 1 });
 */
import { resolve } from "node:path";
import { WhetError } from "../../core/errors.js";
import { readConll } from "../conll.js";
import { formatFromPath, readTable, type SkippedRows, type TextRow } from "../read.js";
import { writeTable, type Cell } from "../write_table.js";
import { augmentTextRows, augmentTokenRows, type AugmentContext, type AugmentSummary } from "./augment_rows.js";
import type { AugmentSpec } from "./augment_spec.js";

export interface AugmentFileOptions extends AugmentContext {
  /** Optional for method "template" (then the output holds the generated rows only). */
  input?: string;
  output: string;
  spec: AugmentSpec;
  task?: "sequence-classification" | "token-classification";
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  /** Multi-label files: the separator inside the label field, used again when writing. */
  labelSeparator?: string;
  /** Name of the provenance column (default "provenance"). */
  provenanceColumn?: string;
}

export interface AugmentFileResult {
  summary: AugmentSummary;
  /** Input rows the reader skipped (empty text, missing label), which the output lacks too. */
  skipped: SkippedRows | null;
}

export async function augmentFile(o: AugmentFileOptions): Promise<AugmentFileResult> {
  const flag = o.flag ?? ((k: string) => k);
  if (o.input === undefined && o.spec.method !== "template") {
    throw new WhetError(`method "${o.spec.method}" needs ${flag("input")}`);
  }
  if (o.input !== undefined && resolve(o.input) === resolve(o.output)) {
    throw new WhetError(`${flag("output")} names the input file ${o.input}; write the augmented data to a new file`);
  }
  return o.task === "token-classification" ? augmentTokenFile(o, flag) : augmentTextFile(o);
}

async function augmentTextFile(o: AugmentFileOptions): Promise<AugmentFileResult> {
  const format = formatFromPath(o.output); // checked before any work
  const textColumn = o.textColumn ?? "text", labelColumn = o.labelColumn ?? "label";
  const provenance = o.provenanceColumn ?? "provenance";
  let rows: TextRow[] = [], skipped: SkippedRows | null = null;
  if (o.input !== undefined) {
    const table = await readTable(o.input,
      { textColumn, textPairColumn: o.textPairColumn, labelColumn, labelSeparator: o.labelSeparator });
    if (table.columns.includes(provenance) && o.provenanceColumn === undefined) {
      throw new WhetError(`${o.input} already has a column "${provenance}" (augmented before?); ` +
        `name another one with --provenance-column`);
    }
    rows = table.rows;
    skipped = table.skipped;
  }
  const out = await augmentTextRows(rows, o.spec, o);
  const columns = [textColumn, ...(o.textPairColumn ? [o.textPairColumn] : []), labelColumn, provenance];
  // Multi-label rows go back into one field, split as they were read.
  const label = (l: TextRow["label"]): Cell =>
    Array.isArray(l) && format !== "jsonl" && o.labelSeparator ? l.join(o.labelSeparator) : l;
  const records = out.rows.map((r) => ({
    [textColumn]: r.text, ...(o.textPairColumn ? { [o.textPairColumn]: r.textPair } : {}),
    [labelColumn]: label(r.label), [provenance]: r.provenance,
  }));
  await writeTable(o.output, columns, records, format);
  return { summary: out.summary, skipped };
}

async function augmentTokenFile(o: AugmentFileOptions, flag: (k: string) => string): Promise<AugmentFileResult> {
  if (formatFromPath(o.output) !== "jsonl") {
    throw new WhetError(`token classification: ${flag("output")} must be a .jsonl file (tokens, ner_tags and the ` +
      `provenance of each sentence; CoNLL has no place for the provenance), got ${o.output}`);
  }
  const table = await readConll(o.input!);
  const out = await augmentTokenRows(table.sentences, o.spec, o);
  const provenance = o.provenanceColumn ?? "provenance";
  const records = out.rows.map((r) => ({ tokens: r.tokens, ner_tags: r.tags, [provenance]: r.provenance }));
  await writeTable(o.output, ["tokens", "ner_tags", provenance], records, "jsonl");
  return { summary: out.summary, skipped: table.skipped };
}
