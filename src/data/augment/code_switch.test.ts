import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { codeSwitch, parseMuseDictionary, readMuseDictionary } from "./code_switch.js";

const FIX = fileURLToPath(new URL("../../../fixtures/augment/", import.meta.url));
const load = async () => [await readMuseDictionary(`${FIX}en-de.txt`), await readMuseDictionary(`${FIX}en-fr.txt`)];
const SENTENCE = "The weather is nice today, the movie is good!";

test("MUSE dictionaries: language from the file name, translations grouped, bad lines at file:line", async () => {
  const [de, fr] = await load();
  assert.equal(de.language, "de");
  assert.equal(fr.language, "fr");
  assert.deepEqual(de.entries.get("the"), ["der", "die", "das"]);
  assert.equal(parseMuseDictionary("a b\n", "dict.txt", "xx").language, "xx");
  assert.throws(() => parseMuseDictionary("good gut\nbad\nday tag\n", "en-de.txt"),
    /^WhetError: en-de\.txt:2: expected "source target" .*found 1 field: "bad"$/);
  assert.throws(() => parseMuseDictionary("good gut\n\nnice schön nett\n", "en-de.txt"),
    /en-de\.txt:3: .*found 3 fields/);
  assert.throws(() => parseMuseDictionary("\n", "empty.txt"), /empty\.txt: the dictionary has no entries/);
});

test("code-switch: cross 1 replaces every known word from a dictionary, keeping case and punctuation", async () => {
  const dicts = await load();
  const [out] = codeSwitch(SENTENCE, dicts, { seed: 3, row: 0, cross: 1 });
  const words = out.split(" ");
  const de = dicts[0].entries, fr = dicts[1].entries;
  const original = SENTENCE.split(" ");
  original.forEach((w, i) => {
    const core = w.replace(/[^\p{L}']/gu, "").toLowerCase();
    const got = words[i].replace(/[,!]$/, "");
    // A word is switched when the drawn language knows it; both dictionaries know every word here.
    const options = [...(de.get(core) ?? []), ...(fr.get(core) ?? [])];
    assert.ok(options.map((o) => o.toLowerCase()).includes(got.toLowerCase()), `${w} -> ${words[i]}`);
  });
  assert.match(words[0], /^[A-Z]/, "capitalisation carried over");
  assert.ok(words[4].endsWith(",") && words[8].endsWith("!"), "punctuation kept");
  // Over many rows both languages are drawn.
  const many = Array.from({ length: 20 }, (_, row) => codeSwitch("movie day book", dicts,
    { seed: 1, row, cross: 1 })[0]);
  assert.ok(many.some((s) => /jour|livre/.test(s)) && many.some((s) => /tag|buch/.test(s)));
});

test("code-switch: ratio and cross 0 change nothing; results depend only on the seed", async () => {
  const dicts = await load();
  assert.deepEqual(codeSwitch(SENTENCE, dicts, { seed: 1, row: 0, ratio: 0 }), []);
  assert.deepEqual(codeSwitch(SENTENCE, dicts, { seed: 1, row: 0, cross: 0 }), []);
  const a = codeSwitch(SENTENCE, dicts, { seed: 1, row: 5, num_aug: 3 });
  assert.deepEqual(codeSwitch(SENTENCE, dicts, { seed: 1, row: 5, num_aug: 3 }), a);
  assert.ok(a.length >= 1 && a.every((s) => s !== SENTENCE));
  const picked = Array.from({ length: 200 }, (_, row) => codeSwitch(SENTENCE, dicts,
    { seed: 9, row, ratio: 0.3 }).length > 0);
  const share = picked.filter(Boolean).length / picked.length;
  assert.ok(share > 0.2 && share < 0.4, `ratio 0.3 chose ${share}`);
  assert.throws(() => codeSwitch(SENTENCE, dicts, { seed: 1, row: 0, cross: 1.5 }),
    /cross must be a number in \[0, 1\], got 1.5/);
});
