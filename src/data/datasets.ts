/**
 * Loaders for the public datasets kept in ../shared/data (see its README.md): each returns rows
 * in the shapes readTable and readConll give, so a user's own file and a benchmark dataset go
 * through the same code afterwards. Files are third-party and are read in place, never copied.
 *
 * @example
 * const dev = await loadTextDataset("/work/shared/data", "sst2", "validation");
 * // dev.rows.length === 872
 */
import { join } from "node:path";
import { WhetError } from "../core/errors.js";
import { readConll, type TokenTable } from "./conll.js";
import { readTable, type SkippedRows, type Table, type TextRow } from "./read.js";
import { readTextFile, splitLines } from "./text_file.js";

export type SplitName = "train" | "validation" | "test";
export type TextDatasetName = "sst2" | "trec" | "chnsenticorp";
export type TokenDatasetName = "wikiann_en" | "wnut17";

export interface DatasetInfo {
  task: "text-classification" | "token-classification";
  /** Split → file, relative to the data root. */
  splits: Partial<Record<SplitName, string>>;
  description: string;
}

export const DATASETS: Record<TextDatasetName | TokenDatasetName, DatasetInfo> = {
  sst2: {
    task: "text-classification",
    splits: { train: "sst2/train.tsv", validation: "sst2/dev.tsv" },
    description: "GLUE SST-2 sentiment (0 negative, 1 positive)",
  },
  trec: {
    task: "text-classification",
    splits: { train: "trec/train_5500.label", test: "trec/TREC_10.label" },
    description: "TREC question classification (6 coarse / 50 fine classes)",
  },
  chnsenticorp: {
    task: "text-classification",
    splits: { train: "chnsenticorp/train.tsv", validation: "chnsenticorp/dev.tsv", test: "chnsenticorp/test.tsv" },
    description: "ChnSentiCorp Chinese review sentiment (0 negative, 1 positive; test unlabelled)",
  },
  wikiann_en: {
    task: "token-classification",
    splits: { train: "wikiann_en/train", validation: "wikiann_en/dev", test: "wikiann_en/test" },
    description: "WikiANN English NER (PER, ORG, LOC; IOB2)",
  },
  wnut17: {
    task: "token-classification",
    splits: { train: "wnut17/wnut17train.conll", validation: "wnut17/emerging.dev.conll", test: "wnut17/emerging.test.annotated" },
    description: "WNUT-17 emerging entities (6 types; IOB2)",
  },
};

export interface TextDatasetOptions {
  /** TREC only: "coarse" (6 classes such as "DESC", the default) or "fine" (50 such as "DESC:manner"). */
  trecLabels?: "coarse" | "fine";
}

/** The file of one split, with a clear error for a split the dataset lacks or a missing file. */
export function datasetPath(root: string, name: TextDatasetName | TokenDatasetName, split: SplitName): string {
  const info = DATASETS[name];
  if (!info) throw new WhetError(`Unknown dataset "${name}" (known: ${Object.keys(DATASETS).join(", ")})`);
  const file = info.splits[split];
  if (!file) throw new WhetError(`Dataset "${name}" has no "${split}" split (it has: ${Object.keys(info.splits).join(", ")})`);
  return join(root, file);
}

/** A text-classification dataset split as a Table (rows of {text, label, line}). */
export async function loadTextDataset(root: string, name: TextDatasetName, split: SplitName, options: TextDatasetOptions = {}): Promise<Table> {
  const path = datasetPath(root, name, split);
  switch (name) {
    case "sst2":
      // GLUE's TSVs are not quoted (GLUE's own reader passes quotechar=None).
      return readTable(path, { format: "tsv", textColumn: "sentence", quote: false });
    case "chnsenticorp":
      // Three layouts: train "label, text_a"; dev "qid, label, text_a"; test "qid, text_a" without
      // labels. Quotes are plain text (train line 944 starts a field with one and never closes it).
      return readTable(path, { format: "tsv", textColumn: "text_a", labelColumn: split === "test" ? null : "label", quote: false });
    case "trec":
      return readTrec(path, options.trecLabels ?? "coarse");
    default:
      throw new WhetError(`"${name}" is not a text-classification dataset (known: sst2, trec, chnsenticorp)`);
  }
}

/** A token-classification dataset split (sentences of tokens and IOB2 tags). */
export async function loadTokenDataset(root: string, name: TokenDatasetName, split: SplitName): Promise<TokenTable> {
  if (name !== "wikiann_en" && name !== "wnut17") {
    throw new WhetError(`"${name}" is not a token-classification dataset (known: wikiann_en, wnut17)`);
  }
  // WikiANN prefixes every token with "en:"; auto-detection removes it.
  return readConll(datasetPath(root, name, split), { format: "conll" });
}

/**
 * TREC's `COARSE:fine question` lines. The files are Latin-1: the training file has one byte
 * above 0x7F (0xF0, "ð", in "sisterðcity" at line 66), invalid as UTF-8.
 */
export async function readTrec(path: string, labels: "coarse" | "fine" = "coarse"): Promise<Table> {
  const lines = splitLines(await readTextFile(path, "latin1"));
  const rows: TextRow[] = [];
  const skipped: SkippedRows = { count: 0, byReason: {}, examples: [] };
  lines.forEach((l, k) => {
    if (l.trim() === "") return;
    const m = /^([A-Z]+):(\S+) (.*)$/.exec(l);
    if (!m) throw new WhetError(`${path}:${k + 1}: expected "COARSE:fine question", got ${JSON.stringify(l.slice(0, 60))}`);
    const text = m[3];
    if (text.trim() === "") {
      skipped.count++;
      skipped.byReason["empty text"] = (skipped.byReason["empty text"] ?? 0) + 1;
      skipped.examples.push({ line: k + 1, reason: "empty text" });
      return;
    }
    rows.push({ text, label: labels === "coarse" ? m[1] : `${m[1]}:${m[2]}`, line: k + 1 });
  });
  return { path, format: "trec", columns: ["label", "text"], rows, skipped };
}
