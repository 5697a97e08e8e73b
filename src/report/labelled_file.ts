// A text-classification file read for a trained model: texts, reference class ids through the
// model's own label2id, and the group column when one is asked for.
import { WhetError } from "../core/errors.js";
import { optionName } from "../core/option_names.js";
import { LabelMap } from "../data/labels.js";
import { readTable } from "../data/read.js";
import type { PretrainedConfig } from "../io/config.js";
import { readGroupColumn } from "./group_column.js";

export interface LabelledFile {
  readonly texts: string[];
  readonly pairs?: string[];
  /** Class ids; absent when the file has no label column (and none was asked for). */
  readonly labels?: number[];
  readonly groups?: string[];
  readonly labelNames: string[];
  readonly columns: readonly string[];
}

export interface LabelledFileOptions {
  readonly textColumn?: string;
  readonly textPairColumn?: string;
  /** Default "label", optional: a file without it is read unlabelled. */
  readonly labelColumn?: string;
  readonly groupColumn?: string;
}

/** Read `path` for the single-label classifier of `config` (the flags' names appear in errors). */
export async function readLabelledFile(path: string, config: PretrainedConfig,
  o: LabelledFileOptions = {}): Promise<LabelledFile> {
  const map = LabelMap.fromConfig(config);
  if (map.problemType !== "single_label_classification") {
    throw new WhetError(`${path}: this check needs a single-label classifier; the model's problem_type is ${map.problemType}`);
  }
  const textColumn = o.textColumn ?? "text";
  const probe = await readTable(path, { textColumn, textPairColumn: o.textPairColumn, labelColumn: null });
  const labelColumn = o.labelColumn ?? (probe.columns.includes("label") ? "label" : null);
  if (labelColumn !== null && !probe.columns.includes(labelColumn)) {
    throw new WhetError(`${optionName("label_column")} "${labelColumn}": ${path} has no such column; its columns are: ${probe.columns.map((c) => JSON.stringify(c)).join(", ")}`);
  }
  const table = labelColumn === null ? probe : await readTable(path, { textColumn, textPairColumn: o.textPairColumn,
    labelColumn });
  if (table.rows.length === 0) throw new WhetError(`${path}: no rows to check (${table.skipped.count} skipped)`);
  const labels = labelColumn === null ? undefined : table.rows.map((r, i) => {
    try {
      return map.encode(r.label!) as number;
    } catch (e) {
      throw new WhetError(`${path}:${table.rows[i].line}: ${(e as Error).message}`);
    }
  });
  return {
    texts: table.rows.map((r) => r.text),
    pairs: o.textPairColumn ? table.rows.map((r) => r.textPair ?? "") : undefined,
    labels,
    groups: o.groupColumn ? await readGroupColumn(path, o.groupColumn, table) : undefined,
    labelNames: [...map.names],
    columns: table.columns,
  };
}
