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
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import type { Tokenizer } from "../tokenizers/index.js";
import { readConll, type TokenRow } from "./conll.js";
import { encodeRows, labelKind, type Example, type LabelKind } from "./examples.js";
import { resolveLabelNames, tagNamesBeside } from "./label_names.js";
import { alignLabels, LabelMap, type ModelLabels, type ProblemType } from "./labels.js";
import { readTable, type ReadTableOptions, type TextRow } from "./read.js";
import { buildReport, formatReport, OVERSIZED_CHARS, oversizedRows } from "./report.js";
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
  /** CSV/TSV quote character, or false for none; default: readTable's. */
  quote?: string | boolean;
  /** false: CSV/TSV without a header row (columns "0", "1", …). */
  header?: boolean;
  /** --problem-type; default: inferred from the labels (LabelMap.fit). */
  problemType?: ProblemType;
  /** --label-names: a list, a comma list or a file; fixes the label order (and names integer ner_tags). */
  labelNames?: string | readonly string[];
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
    quote: s.quote === true ? "\"" : s.quote, header: s.header,
  };
}

async function prepareTextData(s: DataSource, o: PrepareOptions): Promise<PreparedData> {
  const log = o.log ?? (() => {});
  const train = await readTable(s.trainFile, readOptions(s));
  if (train.rows.length === 0) {
    const why = train.skipped.count > 0 ? `all ${train.skipped.count} rows were skipped ` +
      `(${Object.entries(train.skipped.byReason).map(([r, n]) => `${r}: ${n}`).join(", ")})` : "it holds a header row and no data rows";
    throw new WhetError(`Cannot train on "${s.trainFile}": ${why}`);
  }
  warnOversized(s.trainFile, train.rows, o.maxLength, log);
  let trainRows = train.rows, evalRows: TextRow[] = [];
  if (s.validationFile) {
    evalRows = (await readTable(s.validationFile, readOptions(s))).rows;
    warnOversized(s.validationFile, evalRows, o.maxLength, log);
  } else if (o.holdOut) {
    const split = stratifiedSplit(train.rows, { validationSize: s.validationSplit ?? 0.1, seed: o.seed });
    trainRows = [...split.train];
    evalRows = [...split.validation];
    log(`held out ${evalRows.length} of ${train.rows.length} rows for evaluation (stratified, seed ${o.seed})`);
  }
  if (o.beforeEncode) {
    const hooked = await o.beforeEncode({ task: "sequence-classification", rows: trainRows }, { seed: o.seed });
    trainRows = hooked.rows as TextRow[];
  }
  const { labels, mismatch } = chooseLabels(s, trainRows, o);
  if (mismatch) log(mismatch);
  const enc = await encodeRows(trainRows, o.tokenizer, o.maxLength, labels);
  const evalEnc = await encodeRows(evalRows, o.tokenizer, o.maxLength, labels);
  const lengthOf = new Map(trainRows.map((r, i) => [`${r.text}\u0000${r.textPair ?? ""}`, enc.lengths[i]]));
  const tokenCount = (t: string, p?: string) => lengthOf.get(`${t}\u0000${p ?? ""}`) ?? 0;
  const report = buildReport(trainRows, {
    tokenCount, maxLength: o.maxLength, skipped: train.skipped, problemType: labels.problemType, countedInPart: enc.cut,
  });
  if (s.strict && report.labelSpellings) throw new WhetError(`${s.trainFile}: label spellings are mixed: ${report.labelSpellings} (--strict)`);
  const inferred = !s.problemType && labels.problemType === "regression"
    ? "Problem type: regression, inferred from numeric labels with a fraction (one output, MSE loss); " +
      "pass --problem-type single_label_classification to treat the values as classes\n" : "";
  return {
    train: enc.examples, eval: evalEnc.examples, kind: labelKind(labels), labelNames: [...labels.names],
    problemType: labels.problemType,
    freshHead: !!mismatch, labelMismatch: mismatch, report, reportText: inferred + formatReport(report),
  };
}

/** One warning per row over OVERSIZED_CHARS characters, naming file:line (a broken quote, a document in a cell). */
function warnOversized(file: string, rows: readonly TextRow[], maxLength: number, log: (line: string) => void): void {
  for (const r of oversizedRows(rows)) {
    log(`warning: ${file}:${r.line}: a row of ${r.characters.toLocaleString("en-US")} characters ` +
      `(over ${OVERSIZED_CHARS.toLocaleString("en-US")}): only its beginning is tokenized, up to max_length ${maxLength}`);
  }
}

/** The label map: --label-names fixes names and order; else the data's, or the model's when they cover them. */
function chooseLabels(s: DataSource, rows: readonly TextRow[], o: PrepareOptions): { labels: LabelMap; mismatch?: string } {
  const given = resolveLabelNames(s.labelNames);
  let data = LabelMap.fit(rows.map((r) => r.label), { problemType: s.problemType });
  // Naming the labels says they are classes: 0.0/1.0 with --label-names is not a regression.
  if (given && !s.problemType && data.problemType === "regression") {
    data = LabelMap.fit(rows.map((r) => r.label), { problemType: "single_label_classification" });
  }
  if (!given || data.problemType === "regression") {
    const aligned = alignLabels(data, o.modelLabels ?? {});
    return { labels: aligned.labels, mismatch: aligned.mismatch };
  }
  const missing = data.names.filter((n) => !given.includes(n));
  if (missing.length > 0 && !data.multiHotInput) {
    throw new WhetError(`--label-names ${given.join(",")} does not name the data's labels ` +
      `${missing.map((n) => JSON.stringify(n)).join(", ")} (${s.trainFile})`);
  }
  const labels = LabelMap.fromNames(given, data.problemType, data.multiHotInput);
  const aligned = alignLabels(labels, o.modelLabels ?? {});
  const kept = aligned.source === "model" && aligned.labels.names.every((n, i) => n === given[i]);
  return {
    labels,
    mismatch: aligned.source === "data" ? aligned.mismatch
      : kept ? undefined : "--label-names orders the labels differently from the model's: the classification head is initialised afresh",
  };
}

/** Token classification (CoNLL or JSONL): tags sorted as run_ner sorts them, unless the model's cover them. */
async function prepareTokenData(s: DataSource, o: PrepareOptions): Promise<PreparedData> {
  const log = o.log ?? (() => {});
  const given = resolveLabelNames(s.labelNames);
  const beside = given ? undefined : tagNamesBeside(s.trainFile);
  if (beside) log(`integer ner_tags are named by ${beside.file} (${beside.names.length} tags)`);
  const idNames = given ?? beside?.names;
  const train = await readConll(s.trainFile, { tagNames: idNames, strict: Boolean(s.strict) });
  let trainRows = train.sentences, evalRows: TokenRow[] = [];
  if (s.validationFile) evalRows = (await readConll(s.validationFile, { tagNames: idNames, strict: Boolean(s.strict) })).sentences;
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
  // Given names fix the tag order; tags the data lacks stay (a model may need to emit them).
  const order = given ? [...given, ...train.tagSet.filter((t) => !given.includes(t))] : train.tagSet;
  const aligned = alignLabels(LabelMap.fromNames(order), o.modelLabels ?? {});
  if (aligned.mismatch) log(aligned.mismatch);
  const tagNames = [...aligned.labels.names];
  if (!beside && !given && tagNames.every((t) => /^\d+$/.test(t))) {
    log("the tags are integers and nothing names them: pass --label-names O,B-PER,… or put a tags.txt beside the data " +
      "(entity-level scores need IOB2 names)");
  }
  const tagIds = new Map(tagNames.map((t, i) => [t, i]));
  const enc = await encodeTokenRows(trainRows, o.tokenizer, o.maxLength, tagIds);
  const evalEnc = await encodeTokenRows(evalRows, o.tokenizer, o.maxLength, tagIds);
  const tagCount = (t: string) => trainRows.reduce((n, r) => n + r.tags.filter((x) => x === t).length, 0);
  const counts = Object.fromEntries(train.tagSet.map((t) => [t, tagCount(t)]));
  const prior = tagPrior(counts);
  const report = {
    sentences: trainRows.length, evaluation_sentences: evalRows.length, tags: counts, iob2: train.iob2,
    truncated: enc.truncated, skipped: train.skipped,
    ...(prior ? { o_share: prior.oShare, prior_loss: prior.loss } : {}),
  };
  const reportText = [
    `Sentences: ${trainRows.length} for training, ${evalRows.length} for evaluation; ` +
      `${enc.truncated} cut at max_length ${o.maxLength}`,
    `Tags: ${Object.entries(counts).map(([t, c]) => `${t} ${c}`).join(", ")}`,
    ...(prior ? [priorAdvice(prior)] : []),
    ...(train.iob2.violations
      ? [`IOB2: ${train.iob2.violations} I- tags without a matching B- (counted, not fatal)`] : []),
    ...(train.skipped.count ? [`Skipped: ${train.skipped.count} sentences (${Object.entries(train.skipped.byReason)
      .map(([r, n]) => `${r} ${n}`).join(", ")}; --strict stops at the first)`] : []),
  ].join("\n");
  return {
    train: enc.examples, eval: evalEnc.examples, kind: "token", labelNames: tagNames, freshHead: !!aligned.mismatch,
    labelMismatch: aligned.mismatch, report, reportText,
  };
}

/** The share of "O" words, and the loss of a model that knows only the tag frequencies (their entropy, in nats). */
function tagPrior(counts: Readonly<Record<string, number>>): { oShare: number; loss: number } | null {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (!total || counts.O === undefined) return null;
  const loss = Object.values(counts).reduce((h, c) => (c ? h - (c / total) * Math.log(c / total) : h), 0);
  return { oShare: counts.O / total, loss };
}

/**
 * Entity F1 0.0 with a falling loss puzzles users: the model predicts O everywhere while its loss
 * sinks to the tag frequencies' entropy (measured on WNUT-17, docs/ner_f1.md). Say where that floor is.
 */
function priorAdvice(p: { oShare: number; loss: number }): string {
  const line = `O: ${(100 * p.oShare).toFixed(1)}% of the words; ` +
    `predicting the tag frequencies alone gives loss ${p.loss.toFixed(3)}`;
  if (p.oShare < 0.8) return line;
  return `${line}: a loss that stops near it means the model tags every word O (entity F1 0.0): ` +
    "train longer or at a higher --learning-rate (a small model: 1e-3), or start from a larger, cased model";
}
