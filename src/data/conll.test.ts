import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { WhetError } from "../core/errors.js";
import { checkIob2, parseConll, readConll } from "./conll.js";

const dir = await mkdtemp(join(tmpdir(), "whet-conll-"));
after(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

test("CoNLL: tab-separated, blank and tab-only separators, BOM-only last line, CRLF", async () => {
  // The separators seen in WNUT-17: empty lines, lines holding a lone tab, a final line with only U+FEFF.
  const path = await file("w.conll", "EU\tB-ORG\r\nrejects\tO\r\n\r\nPeter\tB-PER\nBlackburn\tI-PER\n\t\nhi\tO\n\ufeff\n");
  const t = await readConll(path);
  assert.equal(t.format, "conll");
  assert.deepEqual(t.sentences, [
    { tokens: ["EU", "rejects"], tags: ["B-ORG", "O"], line: 1 },
    { tokens: ["Peter", "Blackburn"], tags: ["B-PER", "I-PER"], line: 4 },
    { tokens: ["hi"], tags: ["O"], line: 7 },
  ]);
  assert.deepEqual(t.tagSet, ["B-ORG", "B-PER", "I-PER", "O"]);
  assert.equal(t.iob2.violations, 0);
  assert.equal(t.strippedPrefix, null);
});

test("WikiANN's en: prefix is stripped when every token has it", () => {
  const t = parseConll("en:R.H.\tB-ORG\nen:Saunders\tI-ORG\nen::\tO\n\nen:en:x\tO\n", "wikiann");
  assert.equal(t.strippedPrefix, "en:");
  assert.deepEqual(t.sentences.map((s) => s.tokens), [["R.H.", "Saunders", ":"], ["en:x"]]);
  // A token that merely looks prefixed is kept when the others are not.
  const u = parseConll("en:route\tO\nhome\tO\n", "mixed");
  assert.equal(u.strippedPrefix, null);
  assert.deepEqual(u.sentences[0].tokens, ["en:route", "home"]);
  assert.equal(parseConll("en:x\tO\n", "off", { languagePrefix: false }).sentences[0].tokens[0], "en:x");
});

test("CoNLL-2003 columns: spaces, -DOCSTART-, tag in the last column", () => {
  const t = parseConll("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n", "conll2003");
  assert.deepEqual(t.sentences, [{ tokens: ["EU", "rejects"], tags: ["B-ORG", "O"], line: 3 }]);
  const pos = parseConll("EU NNP B-NP B-ORG\n", "pos", { tagColumn: 1 });
  assert.deepEqual(pos.sentences[0].tags, ["NNP"]);
});

test("IOB2 violations are counted with lines, not fatal", () => {
  const t = parseConll("a\tI-PER\nb\tI-PER\nc\tO\nd\tI-LOC\n\ne\tB-ORG\nf\tI-PER\ng\tS-LOC\n", "iob1");
  assert.equal(t.iob2.violations, 3);
  assert.deepEqual(t.iob2.examples, [
    { line: 1, position: 0, tag: "I-PER", previous: "(sentence start)" },
    { line: 4, position: 3, tag: "I-LOC", previous: "O" },
    { line: 7, position: 1, tag: "I-PER", previous: "B-ORG" },
  ]);
  assert.deepEqual(t.iob2.otherTags, ["S-LOC"]);
  assert.equal(checkIob2([{ tokens: ["x", "y"], tags: ["B-A", "I-A"], line: 1 }]).violations, 0);
});

test("malformed CoNLL lines name file:line", async () => {
  const path = await file("bad.conll", "ok\tO\nmissing-tag\n");
  await assert.rejects(readConll(path, { strict: true }),
    (e: Error) => e instanceof WhetError && /bad\.conll:2: expected "token<TAB>tag".*found 1.*strict/.test(e.message));
  assert.throws(() => parseConll("x\t\n", "t.conll", { languagePrefix: false }), /t\.conll:1: empty tag.*1 of 1 token lines/);
});

test("plain CoNLL: one bad-row policy — a bad line's sentence is skipped and counted, fatal with strict", async () => {
  const text = [
    "EU\tB-ORG", "rejects\tO", "", // kept
    "Peter\tB-PER", "lonely", "Blackburn\tI-PER", "", // line 5 lacks its tag: the sentence goes
    "\tO", "x\tO", "", // an empty token
    "Bonn\tB-LOC", "", "a\tO", "b\t", "", // an empty tag (line 14)
    "Paris\tB-LOC", "is\tO", "", "Rome\tB-LOC", "",
  ].join("\n");
  const path = await file("policy.conll", text);
  const t = await readConll(path);
  assert.deepEqual(t.sentences.map((s) => [s.tokens.join(" "), s.line]), [["EU rejects", 1], ["Bonn", 11], ["Paris is", 16], ["Rome", 19]]);
  assert.deepEqual(t.skipped.byReason, { "wrong number of columns": 1, "empty token": 1, "empty tag": 1 });
  assert.deepEqual(t.skipped.examples.map((x) => x.line), [5, 8, 14]);
  assert.equal(t.skipped.count, 3);
  assert.deepEqual(t.tagSet, ["B-LOC", "B-ORG", "O"]);
  await assert.rejects(readConll(path, { strict: true }), (e: unknown) => e instanceof WhetError && /policy\.conll:5: expected/.test(e.message));
  // Mostly malformed (a comma-separated file): the file's problem, with the first bad line.
  const csv = await file("wrong.conll", "EU,B-ORG\nrejects,O\nok\tO\n");
  await assert.rejects(readConll(csv), (e: unknown) => e instanceof WhetError && /wrong\.conll:1: .*2 of 3 token lines are malformed/.test(e.message));
});

test("JSON Lines: tokens and ner_tags, string or integer tags", async () => {
  const path = await file("d.jsonl", [
    '{"tokens": ["EU", "rejects"], "ner_tags": ["B-ORG", "O"]}',
    "",
    '{"tokens": [], "ner_tags": []}',
    '{"tokens": ["Peter"], "ner_tags": ["B-PER"]}',
  ].join("\n"));
  const t = await readConll(path);
  assert.equal(t.format, "jsonl");
  assert.deepEqual(t.sentences.map((s) => [s.tokens, s.tags, s.line]), [[["EU", "rejects"], ["B-ORG", "O"], 1], [["Peter"], ["B-PER"], 4]]);
  assert.deepEqual(t.skipped.byReason, { "empty sentence": 1 });
  const ids = parseConll('{"tokens": ["a", "b"], "ner_tags": [1, 0]}\n', "ids.jsonl", { tagNames: ["O", "B-PER"] });
  assert.deepEqual(ids.sentences[0].tags, ["B-PER", "O"]);
  assert.deepEqual(parseConll('{"tokens": ["a"], "ner_tags": [3]}\n', "raw.jsonl").sentences[0].tags, ["3"]);
  assert.throws(() => parseConll('{"tokens": ["a"], "ner_tags": [3]}\n', "r.jsonl", { tagNames: ["O"] }), /tag id 3 at position 0 is outside the 1 tag names \(ids 0..0\)/);
  assert.throws(() => parseConll('{"tokens": ["a", "b"], "ner_tags": ["O"]}\n', "n.jsonl"), /n\.jsonl:1: 2 tokens but 1 tags/);
  assert.throws(() => parseConll('{"words": ["a"], "tags": ["O"]}\n', "f.jsonl"), /fields found: "words", "tags"/);
  assert.throws(() => parseConll('{"tokens": ["a"], "ner_tags": ["O"]\n', "m.jsonl"), /m\.jsonl:1:36: malformed JSON/);
  assert.throws(() => parseConll('{"tokens": [], "ner_tags": []}\n', "s.jsonl", { strict: true }), /s\.jsonl:1: empty sentence/);
});

test("JSON Lines sentences: one bad-row policy — a malformed line is skipped and counted, fatal with strict", async () => {
  const path = await file("policy.jsonl", '{"tokens": ["EU"], "ner_tags": ["B-ORG"]}\n{"tokens": ["x"], "ner_tags": [}\n{"tokens": ["a", "b"], "ner_tags": ["O"]}\n' +
    '{"tokens": ["Peter"], "ner_tags": ["B-PER"]}\n{"tokens": ["Bonn"], "ner_tags": ["B-LOC"]}\n');
  const r = await readConll(path);
  assert.equal(r.sentences.length, 3);
  assert.deepEqual(r.skipped.byReason, { "malformed line": 2 });
  await assert.rejects(readConll(path, { strict: true }), (e: unknown) => e instanceof WhetError && /policy\.jsonl:2:/.test(e.message));
  const worse = await file("worse.jsonl", "not json\nnor this\n");
  await assert.rejects(readConll(worse), /2 of 2 lines are malformed/);
});
