import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { contractions, negate, stripPunctuation, swapTerms, typos } from "./counterfactuals.js";
import { builtinLexicon, parseLexicon, readLexicon } from "./lexicon.js";

const lex = builtinLexicon();

test("gender swap goes both ways at once, keeps case, matches whole words only", () => {
  const g = swapTerms(lex.get("gender")!);
  assert.equal(g("He told her that his sister is a queen.", 0), "She told his that her brother is a king.");
  assert.equal(g("HE said so", 0), "SHE said so");
  assert.equal(g("The theme shelter", 0), null, "he inside theme/shelter is not a word: nothing to swap");
});

test("Chinese swaps take the longest term first", () => {
  const g = swapTerms(lex.get("gender")!);
  assert.equal(g("我的男朋友和他的妈妈", 0), "我的女朋友和她的爸爸");
  assert.equal(g("这位先生很好", 0), "这位女士很好");
  const n = swapTerms(lex.get("names")!);
  assert.equal(n("王伟说", 0), "王芳说");
  assert.equal(n("Mary met John", 0), "James met Patricia", "the pairs are James/Mary and John/Patricia");
});

test("typos swap two neighbouring letters, seeded by (seed, row)", () => {
  const t = typos(1);
  const a = t("wonderful movie", 3)!;
  assert.notEqual(a, "wonderful movie");
  assert.equal([...a].sort().join(""), [..."wonderful movie"].sort().join(""), "same letters");
  assert.equal(t("wonderful movie", 3), a, "same seed and row, same typo");
  assert.equal(t("a b", 0), null);
});

test("punctuation, contractions and negation", () => {
  assert.equal(stripPunctuation("Great, isn't it? Yes!", 0), "Great isn't it Yes");
  assert.equal(stripPunctuation("很好。", 0), "很好");
  assert.equal(stripPunctuation("no punctuation", 0), null);
  assert.equal(contractions("It is not bad", 0), "It's not bad");
  assert.equal(contractions("It isn’t bad", 0), "It is not bad");
  assert.equal(negate("The film is wonderful", 0), "The film is not wonderful");
  assert.equal(negate("The film is not wonderful", 0), null, "already negated, and no other auxiliary");
  assert.equal(negate("Wonderful film", 0), null);
  assert.equal(negate("这家酒店很好", 0), "这家酒店很不好");
  assert.equal(negate("我不喜欢，但是推荐", 0), "我不喜欢，但不是推荐");
});

test("lexicon files: comments and blank lines skipped, malformed lines name file:line", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-lex-"));
  try {
    const p = join(dir, "my.tsv");
    writeFileSync(p, "# religion pairs\n\nreligion\tchurch\tmosque\n");
    assert.deepEqual(readLexicon(p).get("religion"), [{ a: "church", b: "mosque", at: `${p}:3` }]);
    writeFileSync(p, "gender\the\tshe\ngender he she\n");
    assert.throws(() => readLexicon(p), new RegExp(`${p.replace(/[.]/g, "\\.")}:2: expected 3 tab-separated fields`));
    assert.throws(() => parseLexicon("Gender\ta\tb", "x"), /x:1: the category must be a lowercase name/);
    assert.throws(() => parseLexicon("gender\ta\t", "x"), /x:1: a term is empty/);
    assert.throws(() => parseLexicon("gender\ta\ta", "x"), /x:1: "a" is paired with itself/);
    assert.throws(() => readLexicon(join(dir, "missing.tsv")), /reading the lexicon .*missing.tsv: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the shipped lists parse and cover both languages", () => {
  const gender = lex.get("gender")!;
  for (const [a, b] of [["he", "she"], ["他", "她"], ["男", "女"], ["先生", "女士"]]) {
    assert.ok(gender.some((p) => p.a === a && p.b === b), `${a}/${b}`);
  }
  assert.ok(lex.get("names")!.length >= 30);
});
