import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { WhetError } from "../core/errors.js";
import { formatFromPath, parseTable, readTable, tsvLooksQuoted, type ReadTableOptions } from "./read.js";

const dir = await mkdtemp(join(tmpdir(), "whet-read-"));
after(() => rm(dir, { recursive: true, force: true }));

/** Write a file into the temp dir and return its path. */
async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const fails = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof WhetError, `expected a WhetError, got ${String(e)}`);
  assert.match((e as Error).message, pattern);
  return true;
};

test("CSV: quoted fields with commas, doubled quotes and embedded newlines; line numbers stay right", async () => {
  const path = await file("q.csv", [
    "text,label",
    "plain,pos",
    "\"with, comma\",neg",
    "\"two\nlines, \"\"quoted\"\"\",pos",
    "after,neg",
    "",
    "5\" screen,pos", // a quote inside an unquoted field is literal, as in Python's csv
  ].join("\n") + "\n");
  const t = await readTable(path);
  assert.equal(t.format, "csv");
  assert.deepEqual(t.columns, ["text", "label"]);
  assert.deepEqual(t.rows, [
    { text: "plain", label: "pos", line: 2 },
    { text: "with, comma", label: "neg", line: 3 },
    { text: "two\nlines, \"quoted\"", label: "pos", line: 4 },
    { text: "after", label: "neg", line: 6 },
    { text: "5\" screen", label: "pos", line: 8 },
  ]);
  assert.equal(t.skipped.count, 0);
});

test("CSV: BOM and CRLF line endings, a last line without newline, a text pair", async () => {
  const path = await file("bom.csv", "\ufeffpremise,hypothesis,label\r\nA man sleeps,\"Someone\r\nrests\",entailment\r\nx,y,neutral");
  const t = await readTable(path, { textColumn: "premise", textPairColumn: "hypothesis" });
  assert.deepEqual(t.columns, ["premise", "hypothesis", "label"]);
  assert.deepEqual(t.rows, [
    { text: "A man sleeps", textPair: "Someone\nrests", label: "entailment", line: 2 },
    { text: "x", textPair: "y", label: "neutral", line: 4 },
  ]);
});

test("invalid UTF-8 is an error with the byte offset", async () => {
  const bytes = new Uint8Array([...new TextEncoder().encode("text,label\nok,1\nbad"), 0xff, ...new TextEncoder().encode(",0\n")]);
  const path = await file("bad.csv", bytes);
  await assert.rejects(readTable(path), fails(/bad\.csv": invalid UTF-8 at byte offset 19 \(line 3/));
  const t = await readTable(path, { encoding: "latin1" });
  assert.equal(t.rows[1].text, "badÿ");
});

test("ragged rows: a few are skipped and counted (fatal with strict); most of the file is a wrong delimiter", async () => {
  const path = await file("ragged.csv", "text,label\na,1\n\"multi\nline\",0\nb,1,extra\nc\nd,0\n");
  const t = await readTable(path);
  assert.deepEqual(t.rows.map((r) => r.line), [2, 3, 7]);
  assert.deepEqual(t.skipped.byReason, { "wrong number of fields": 2 });
  assert.deepEqual(t.skipped.examples, [{ line: 5, reason: "wrong number of fields" }, { line: 6, reason: "wrong number of fields" }]);
  await assert.rejects(readTable(path, { strict: true }), fails(/ragged\.csv:5: expected 2 fields \("text", "label"\), found 3/));
  const semis = await file("semi.csv", "text,label\na;1\nb;0\nc,1\n");
  await assert.rejects(readTable(semis),
    fails(/semi\.csv:2: expected 2 fields \("text", "label"\), found 1 \(2 ragged rows in all, at lines 2, 3\); check the delimiter/));
});

test("a missing column lists the columns found", async () => {
  const path = await file("cols.csv", "sentence,label\nhi,1\n");
  await assert.rejects(readTable(path), fails(/no column "text" \(columns found: "sentence", "label"\)/));
  // A library caller reads the options it passes (the `whet` program gets flags: cli/usage_errors.test.ts).
  await assert.rejects(readTable(path), fails(/choose columns with textColumn, textPairColumn and labelColumn; a file without a header row needs header: false, textColumn: "0", labelColumn: "1"; labelColumn: null reads unlabelled data/));
  const t = await readTable(path, { textColumn: "sentence" });
  assert.equal(t.rows.length, 1);
  await assert.rejects(readTable(path, { textColumn: "sentence", labelColumn: "y", textPairColumn: "p" }),
    fails(/no columns "p", "y" \(columns found: "sentence", "label"\)/));
  // Unlabelled data says so explicitly.
  assert.deepEqual((await readTable(path, { textColumn: "sentence", labelColumn: null })).rows, [{ text: "hi", line: 2 }]);
});

test("bad rows are skipped and counted by reason, or fatal with strict", async () => {
  const path = await file("skip.tsv", "text\tlabel\ngood\t1\n   \t0\nno label\t\nfine\t 0 \n");
  const t = await readTable(path);
  assert.deepEqual(t.rows, [{ text: "good", label: "1", line: 2 }, { text: "fine", label: "0", line: 5 }]);
  assert.deepEqual(t.skipped, {
    count: 2, byReason: { "empty text": 1, "missing label": 1 },
    examples: [{ line: 3, reason: "empty text" }, { line: 4, reason: "missing label" }],
  });
  await assert.rejects(readTable(path, { strict: true }), fails(/skip\.tsv:3: empty text \(strict mode/));
});

test("multi-label: labelSeparator splits a field into labels", async () => {
  const path = await file("multi.csv", "text,label\na,sports|politics\nb, tech \nc,|\n");
  const t = await readTable(path, { labelSeparator: "|" });
  assert.deepEqual(t.rows.map((r) => r.label), [["sports", "politics"], ["tech"]]);
  assert.deepEqual(t.skipped.byReason, { "missing label": 1 });
});

test("TSV: bare quotes are text by default; a forced quote that would swallow rows names --no-quote", async () => {
  const content = "label\ttext\n1\t\"quoted start, never closed\n0\tnext row\n1\tlast \"x\" row\n";
  const path = await file("stray.tsv", content);
  const expected = [["\"quoted start, never closed", 2], ["next row", 3], ["last \"x\" row", 4]];
  assert.deepEqual((await readTable(path)).rows.map((r) => [r.text, r.line]), expected);
  await assert.rejects(readTable(path, { quote: "\"" }),
    fails(/stray\.tsv:2: a quoted field here runs over 3 lines and holds tabs.*pass --no-quote \(key quote: false\)/));
  assert.deepEqual((await readTable(path, { quote: false })).rows.map((r) => [r.text, r.line]), expected);
});

test("TSV: a clearly quoted file is still read as quoted (doubled quotes, tabs and newlines inside)", async () => {
  const path = await file("quoted.tsv", "text\tlabel\n\"say \"\"hi\"\"\tthere\"\t1\n\"two\nlines\"\t0\nplain\t1\n");
  const t = await readTable(path);
  assert.deepEqual(t.rows.map((r) => [r.text, r.label, r.line]), [["say \"hi\"\tthere", "1", 2], ["two\nlines", "0", 3], ["plain", "1", 5]]);
  assert.equal(tsvLooksQuoted("a\tb\n\"x\"\t1\n"), true);
  assert.equal(tsvLooksQuoted("a\tb\n\"x\"\t1\n5\" screen\t0\n"), false);
  assert.equal(tsvLooksQuoted("a\tb\nno quotes\t1\n"), false);
});

test("no header row: columns by position, and a hint when the names are missing", async () => {
  const path = await file("nohead.tsv", "he said \"hi\t1\nok then\t0\n");
  const t = await readTable(path, { header: false, textColumn: "0", labelColumn: "1" });
  assert.deepEqual(t.rows, [{ text: "he said \"hi", label: "1", line: 1 }, { text: "ok then", label: "0", line: 2 }]);
  assert.deepEqual(t.columns, ["0", "1"]);
  await assert.rejects(readTable(path), fails(/needs header: false, textColumn: "0", labelColumn: "1"/));
  await assert.rejects(readTable(path, { header: false }), fails(/columns found: "0", "1".*textColumn: "0", labelColumn: "1"/));
  const csv = await file("nohead.csv", "\"a, b\",pos\n");
  assert.deepEqual((await readTable(csv, { header: false, textColumn: "0", labelColumn: "1" })).rows, [{ text: "a, b", label: "pos", line: 1 }]);
});

test("Parquet and Arrow files get a convert-to-CSV/JSONL message", () => {
  assert.throws(() => formatFromPath("train.parquet"), fails(/\.parquet files are not read by whet; convert it to CSV or JSON Lines/));
});

test("CSV: an unclosed quote names the row where it opened", async () => {
  const path = await file("open.csv", "text,label\nok,1\n\"never closed,1\nmore,0\n");
  await assert.rejects(readTable(path), fails(/open\.csv:3: a quoted field opened in this row is never closed/));
});

test("JSONL: rows, blank lines, number and list labels", async () => {
  const path = await file("d.jsonl", [
    '{"text": "a", "label": 1, "extra": true}',
    "",
    '{"text": "b", "label": ["x", "y"]}',
    '{"text": "c", "label": null}',
    '{"text": "d", "label": []}',
    '{"label": 0}',
  ].join("\r\n"));
  const t = await readTable(path);
  assert.equal(t.format, "jsonl");
  assert.deepEqual(t.rows, [
    { text: "a", label: 1, line: 1 }, { text: "b", label: ["x", "y"], line: 3 }, { text: "d", label: [], line: 5 },
  ]);
  assert.deepEqual(t.skipped.byReason, { "missing label": 1, "missing text": 1 });
  assert.deepEqual(t.columns, ["text", "label", "extra"]);
});

test("JSONL errors: file:line:column, non-objects, wrong types, a column absent everywhere", async () => {
  // One bad line among good ones is a bad row: skipped and counted, fatal with strict.
  const bad = await file("bad.jsonl", '{"text": "ok", "label": 1}\n{"text": "né", "label": 1,}\n{"text": "ok2", "label": 0}\n');
  const t = await readTable(bad);
  assert.deepEqual(t.rows.map((r) => r.text), ["ok", "ok2"]);
  assert.deepEqual(t.skipped.byReason, { "malformed JSON": 1 });
  await assert.rejects(readTable(bad, { strict: true }), fails(/bad\.jsonl:2:27: malformed JSON: trailing comma/));
  // A file that is mostly not JSON Lines is the file's problem.
  const single = await file("single.jsonl", "{\"text\": 'x'}\n");
  await assert.rejects(readTable(single), fails(/single\.jsonl:1:10: malformed JSON: .*double quotes.*1 of 1 lines are malformed/));
  const arr = await file("arr.jsonl", '{"text": "a", "label": 1}\n["x"]\n{"text": "b", "label": 0}\n');
  assert.deepEqual((await readTable(arr)).skipped.byReason, { "not a JSON object": 1 });
  await assert.rejects(readTable(arr, { strict: true }), fails(/arr\.jsonl:2: expected a JSON object per line, got a list/));
  const num = await file("num.jsonl", '{"text": 5, "label": 1}\n{"text": "a", "label": {"a": 1}}\n{"text": "b", "label": 1}\n');
  const n = await readTable(num);
  assert.deepEqual(n.skipped.byReason, { "text not a string": 1, "invalid label": 1 });
  assert.deepEqual(n.rows.map((r) => r.text), ["b"]);
  await assert.rejects(readTable(num, { strict: true }), fails(/num\.jsonl:1: the text must be a string, got number 5/));
  const cols = await file("cols.jsonl", '{"sentence": "a", "label": 1}\n{"sentence": "b", "label": 0, "id": 2}\n');
  await assert.rejects(readTable(cols), fails(/no column "text" \(columns found: "sentence", "label", "id"\)/));
  const json = await file("array.json", '[{"text": "a"}]\n');
  await assert.rejects(readTable(json), fails(/JSON Lines: one object per line, not an array/));
});

test("format from the extension; header-only and empty files", async () => {
  assert.equal(formatFromPath("a/b.TSV"), "tsv");
  assert.equal(formatFromPath("x.ndjson"), "jsonl");
  assert.throws(() => formatFromPath("data.xlsx"), fails(/extension "\.xlsx": pass --format csv, tsv or jsonl/));
  assert.equal((await readTable(await file("h.csv", "text,label\n"))).rows.length, 0);
  await assert.rejects(readTable(await file("e.csv", "")), fails(/the file is empty; a header row/));
});

test("parseTable: in-memory text, custom delimiter", () => {
  const opts: ReadTableOptions & { format: "csv" } = { format: "csv", delimiter: ";", textColumn: "t", labelColumn: "y" };
  const t = parseTable("t;y\n\"a;b\";1\n", "mem.csv", opts);
  assert.deepEqual(t.rows, [{ text: "a;b", label: "1", line: 2 }]);
});

test("a folder given as the data file is named as such", async () => {
  await assert.rejects(readTable(dir), fails(/it is a folder; give a data file \(\.csv, \.tsv or \.jsonl\)/));
});
