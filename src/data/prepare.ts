/**
 * The walk from a training file to examples: read, hold out an evaluation split when there is no
 * validation file, let a hook rewrite the training rows (augmentation), map labels (keeping a
 * starting model's own ids when they cover the data's), tokenize, and report on the data.
 *
 * @example
 * const data = await prepareData({ task: "sequence-classification", trainFile: "train.csv", validationSplit: 0.1,
 *   textColumn: "text", labelColumn: "label" }, { tokenizer, maxLength: 128, seed: 42, holdOut: true });
 * // data.train, data.eval: Example[]; data.labelNames; data.reportText
 */
import { Rng } from "../core/rng.js";
import type { Tokenizer } from "../tokenizers/index.js";
import { readConll, type TokenRow } from "./conll.js";
import { encodeRows, labelKind, type Example, type LabelKind } from "./examples.js";
import { alignLabels, LabelMap, type ModelLabels } from "./labels.js";
import { readTable, type ReadTableOptions, type TextRow } from "./read.js";
import { buildReport, formatReport } from "./report.js";
import { stratifiedSplit } from "./split.js";
import { encodeTokenRows } from "./token_examples.js";

export type DataTask = "sequence-classification" | "token-classification";

/** Where the data is and how to read it (the run config's data keys). */
export interface DataSource {
  task: DataTask;
  trainFile: string;
  validationFile?: string;
  /** Share of the training rows held out when there is no validation file. */
  validationSplit?: number;
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  labelSeparator?: string;
  strict?: boolean;
}

/** The training split between reading and encoding, as the hook sees it. */
export type TrainRows =
  | { task: "sequence-classification"; rows: TextRow[] }
  | { task: "token-classification"; rows: TokenRow[] };

/**
 * Rewrites the training rows before labels are mapped and rows are encoded (augmentation). It never
 * sees the evaluation rows, so nothing derived from them leaks into training.
 */
export type BeforeEncode = (train: TrainRows, context: { seed: number }) => TrainRows | Promise<TrainRows>;

export interface PrepareOptions {
  tokenizer: Tokenizer;
  maxLength: number;
  seed: number;
  /** Hold out an evaluation split when there is no validation file (evaluation is wanted). */
  holdOut: boolean;
  /** The starting model's labels (config.json): kept when they cover the data's. */
  modelLabels?: ModelLabels;
  beforeEncode?: BeforeEncode;
  /** Where notes go (the split, a label mismatch); default: nowhere. */
  log?: (line: string) => void;
}

export interface PreparedData {
  train: Example[];
  eval: Example[];
  kind: LabelKind;
  /** Label names in id order. */
  labelNames: string[];
  problemType?: string;
  /** The model's own labels do not fit the data's: its head must be drawn afresh. */
  freshHead: boolean;
  /** Why freshHead is set, naming both label sets. */
  labelMismatch?: string;
  report: unknown;
  reportText: string;
}

/** Read, split, map labels, encode and report: text classification or token classification by `source.task`. */
export async function prepareData(source: DataSource, o: PrepareOptions): Promise<PreparedData> {
  return source.task === "token-classification" ? prepareTokenData(source, o) : prepareTextData(source, o);
}

function readOptions(s: DataSource): ReadTableOptions {
  return {
    textColumn: s.textColumn ?? "text", textPairColumn: s.textPairColumn, labelColumn: s.labelColumn ?? "label",
    labelSeparator: s.labelSeparator, strict: Boolean(s.strict),
  };
}

async function prepareTextData(s: DataSource, o: PrepareOptions): Promise<PreparedData> {
  const log = o.log ?? (() => {});
  const train = await readTable(s.trainFile, readOptions(s));
  let trainRows = train.rows, evalRows: TextRow[] = [];
  if (s.validationFile) evalRows = (await readTable(s.validationFile, readOptions(s))).rows;
  else if (o.holdOut) {
    const split = stratifiedSplit(train.rows, { validationSize: s.validationSplit ?? 0.1, seed: o.seed });
    trainRows = [...split.train];
    evalRows = [...split.validation];
    log(`held out ${evalRows.length} of ${train.rows.length} rows for evaluation (stratified, seed ${o.seed})`);
  }
  if (o.beforeEncode) {
    const hooked = await o.beforeEncode({ task: "sequence-classification", rows: trainRows }, { seed: o.seed });
    trainRows = hooked.rows as TextRow[];
  }
  const aligned = alignLabels(LabelMap.fit(trainRows.map((r) => r.label)), o.modelLabels ?? {});
  if (aligned.mismatch) log(aligned.mismatch);
  const labels = aligned.labels;
  const enc = await encodeRows(trainRows, o.tokenizer, o.maxLength, labels);
  const evalEnc = await encodeRows(evalRows, o.tokenizer, o.maxLength, labels);
  const lengthOf = new Map(trainRows.map((r, i) => [`${r.text}\u0000${r.textPair ?? ""}`, enc.lengths[i]]));
  const tokenCount = (t: string, p?: string) => lengthOf.get(`${t}\u0000${p ?? ""}`) ?? 0;
  const report = buildReport(trainRows, { tokenCount, maxLength: o.maxLength, skipped: train.skipped });
  return {
    train: enc.examples, eval: evalEnc.examples, kind: labelKind(labels), labelNames: [...labels.names],
    problemType: labels.problemType,
    freshHead: !!aligned.mismatch, labelMismatch: aligned.mismatch, report, reportText: formatReport(report),
  };
}

/** Token classification (CoNLL or JSONL): tags sorted as run_ner sorts them, unless the model's cover them. */
async function prepareTokenData(s: DataSource, o: PrepareOptions): Promise<PreparedData> {
  const log = o.log ?? (() => {});
  const train = await readConll(s.trainFile);
  let trainRows = train.sentences, evalRows: TokenRow[] = [];
  if (s.validationFile) evalRows = (await readConll(s.validationFile)).sentences;
  else if (o.holdOut) {
    const order = new Rng(o.seed, 0x73706c6974).permutation(trainRows.length);
    const n = Math.max(1, Math.round((s.validationSplit ?? 0.1) * trainRows.length));
    evalRows = order.slice(0, n).map((i) => train.sentences[i]);
    trainRows = order.slice(n).sort((a, b) => a - b).map((i) => train.sentences[i]);
    log(`held out ${evalRows.length} of ${train.sentences.length} sentences for evaluation (seed ${o.seed})`);
  }
  if (o.beforeEncode) {
    const hooked = await o.beforeEncode({ task: "token-classification", rows: [...trainRows] }, { seed: o.seed });
    trainRows = hooked.rows as TokenRow[];
  }
  const aligned = alignLabels(LabelMap.fromNames(train.tagSet), o.modelLabels ?? {});
  if (aligned.mismatch) log(aligned.mismatch);
  const tagNames = [...aligned.labels.names];
  const tagIds = new Map(tagNames.map((t, i) => [t, i]));
  const enc = await encodeTokenRows(trainRows, o.tokenizer, o.maxLength, tagIds);
  const evalEnc = await encodeTokenRows(evalRows, o.tokenizer, o.maxLength, tagIds);
  const tagCount = (t: string) => trainRows.reduce((n, r) => n + r.tags.filter((x) => x === t).length, 0);
  const counts = Object.fromEntries(train.tagSet.map((t) => [t, tagCount(t)]));
  const report = {
    sentences: trainRows.length, evaluation_sentences: evalRows.length, tags: counts, iob2: train.iob2,
    truncated: enc.truncated, skipped: train.skipped,
  };
  const reportText = [
    `Sentences: ${trainRows.length} for training, ${evalRows.length} for evaluation; ` +
      `${enc.truncated} cut at max_length ${o.maxLength}`,
    `Tags: ${Object.entries(counts).map(([t, c]) => `${t} ${c}`).join(", ")}`,
    ...(train.iob2.violations
      ? [`IOB2: ${train.iob2.violations} I- tags without a matching B- (counted, not fatal)`] : []),
  ].join("\n");
  return {
    train: enc.examples, eval: evalEnc.examples, kind: "token", labelNames: tagNames, freshHead: !!aligned.mismatch,
    labelMismatch: aligned.mismatch, report, reportText,
  };
}
