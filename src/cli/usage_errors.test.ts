// Usage errors through the real program: exit code 2 (commander's own errors included), and
// messages that name the flags a user typed, never the library's option names.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const fx = fileURLToPath(new URL("../../fixtures/trajectories/bert-seq/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "whet-usage-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function whet(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: dir, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, err: r.stderr, out: r.stdout };
}

const TRAIN = ["train", "--model", join(fx, "init"), "--train-file", join(fx, "train.csv"), "--threads", "1"];
/** Library spellings that must not reach a command-line user. */
const API_NAMES = /\b(textColumn|textPairColumn|labelColumn|validationSize|validationSplit|tokensField|tagsField|maxLength)\b|API:/;

test("whet: commander's usage errors exit 2 with a pointer to --help", () => {
  const cases: [string[], RegExp][] = [
    [["train", "--bogus"], /unknown option '--bogus'/],
    [["predict", "--model", "m"], /required option '--input <file>' not specified/],
    [["inspect", "x.csv", "--format", "nope"], /argument 'nope' is invalid\. Allowed choices are csv, tsv, jsonl, conll/],
    [["nothere"], /unknown command 'nothere'/],
  ];
  for (const [args, message] of cases) {
    const r = whet(...args);
    assert.equal(r.code, 2, `whet ${args.join(" ")}: ${r.err}`);
    assert.match(r.err, message);
    assert.match(r.err, /\(run "whet( \w+)? --help" for usage\)/);
  }
  const help = whet("train", "--help");
  assert.equal(help.code, 0, "--help is not an error");
});

test("whet train: wrong values and missing options exit 2, each in one line naming the flag", () => {
  const cases: [string[], RegExp][] = [
    [["train"], /missing required options --model, --train-file, --output-dir/],
    [[...TRAIN, "--output-dir", "a", "--num-train-epochs", "abc"], /--num-train-epochs: expected a number, got "abc"/],
    [[...TRAIN, "--output-dir", "a", "--lr-scheduler-type", "nope"], /--lr-scheduler-type.*expected one of "linear"/],
    [[...TRAIN, "--output-dir", "b", "--validation-split", "0.0001"], /Cannot split 256 rows with --validation-split 0\.0001/],
    [[...TRAIN, "--output-dir", "c", "--eval-strategy", "epoch", "--metric-for-best-model", "f9"],
      /--metric-for-best-model "f9" is not computed for this task; the metrics are: loss, accuracy/],
    [[...TRAIN, "--output-dir", "d", "--class-weights", "1,2"], /--class-weights has 2 values but the model has 4 labels/],
  ];
  for (const [args, message] of cases) {
    const r = whet(...args);
    assert.equal(r.code, 2, `whet ${args.slice(0, 1).join(" ")} … ${args.slice(-2).join(" ")}: ${r.err}`);
    const last = r.err.trim().split("\n").at(-1)!;
    assert.match(last, /^whet: /, "the error is the last line");
    assert.match(last, message);
    assert.doesNotMatch(r.err, API_NAMES);
  }
});

test("whet: data errors name --text-column / --no-header, not the library's textColumn", () => {
  writeFileSync(join(dir, "sentences.csv"), "sentence,label\nhello,a\nbye,b\n");
  for (const args of [
    [...TRAIN.slice(0, 3), "--train-file", "sentences.csv", "--output-dir", "e"],
    ["inspect", "sentences.csv"],
    ["evaluate", "--model", join(fx, "init"), "--file", "sentences.csv"],
  ]) {
    const r = whet(...args);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /no column "text" \(columns found: "sentence", "label"\); choose columns with --text-column, --text-pair-column and --label-column; a file without a header row needs --no-header --text-column 0 --label-column 1/);
    assert.doesNotMatch(r.err, API_NAMES);
  }
  writeFileSync(join(dir, "ner.jsonl"), '{"words": ["a"], "tags": ["O"]}\n');
  const ner = whet(...TRAIN.slice(0, 3), "--task", "token-classification", "--train-file", "ner.jsonl", "--output-dir", "f");
  assert.equal(ner.code, 1, ner.err);
  assert.match(ner.err, /expected arrays "tokens" and "ner_tags" \(fields found: "words", "tags"\); rename the file's fields/);
  assert.doesNotMatch(ner.err, API_NAMES);
});

test("whet pretrain: conflicting or missing sources are usage errors (exit 2)", () => {
  writeFileSync(join(dir, "corpus.txt"), "some text here\nmore text\n");
  const r = whet("pretrain", "--train-file", "corpus.txt", "--output-dir", "p");
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /pretrain: give exactly one of --model .*, --config-from .* or --model-type/);
});
