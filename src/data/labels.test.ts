import assert from "node:assert/strict";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { alignLabels, compareCodePoints, LabelMap } from "./labels.js";

test("string labels: sorted(set(labels)) as run_glue builds label_list", () => {
  const map = LabelMap.fit(["positive", "negative", "neutral", "positive", undefined]);
  assert.equal(map.problemType, "single_label_classification");
  assert.deepEqual(map.names, ["negative", "neutral", "positive"]);
  assert.equal(map.numLabels, 3);
  assert.equal(map.encode("neutral"), 1);
  assert.equal(map.decode(2), "positive");
  assert.deepEqual(map.toConfig(), {
    id2label: { 0: "negative", 1: "neutral", 2: "positive" },
    label2id: { negative: 0, neutral: 1, positive: 2 },
    problem_type: "single_label_classification",
  });
  // Python sorts str by code point: "Z" < "a" < "é" < "𝄞" (JS's default sort would put 𝄞 before ｚ).
  assert.deepEqual(LabelMap.fit(["é", "a", "Z", "𝄞", "ｚ"]).names, ["Z", "a", "é", "ｚ", "𝄞"]);
  assert.ok(compareCodePoints("ｚ", "𝄞") < 0);
});

test("integer labels keep their values; numeric order, not string order", () => {
  assert.deepEqual(LabelMap.fit(["1", "0", "1"]).names, ["0", "1"]);
  const map = LabelMap.fit([2, 10, 1, 0]);
  assert.deepEqual(map.names, ["0", "1", "2", "10"]);
  assert.equal(map.encode(10), 3);
  assert.equal(map.encode("2"), 2); // CSV's "2" and JSON's 2 are one label
});

test("unknown labels at evaluation: an error listing known labels", () => {
  const map = LabelMap.fit(["b", "a", "c", "d", "e", "f", "g", "h", "i", "j"]);
  assert.throws(() => map.encode("neutral"), (e: Error) => e instanceof WhetError &&
    e.message === `Unknown label "neutral": the model knows 10 labels ("a", "b", "c", "d", "e", "f", "g", "h", … 2 more); ` +
      "evaluation data must use the training labels");
  assert.equal(map.has("c"), true);
  assert.equal(map.has("z"), false);
  assert.throws(() => map.name(10), /No label with id 10: ids run 0\.\.9/);
});

test("config.json round trip, and checks on what it says", () => {
  const map = LabelMap.fromConfig({ id2label: { 1: "pos", 0: "neg" }, label2id: { neg: 0, pos: 1 } });
  assert.deepEqual(map.names, ["neg", "pos"]);
  const again = LabelMap.fromConfig(JSON.parse(JSON.stringify(map.toConfig())));
  assert.deepEqual(again.names, map.names);
  assert.throws(() => LabelMap.fromConfig({ id2label: { 0: "a", 2: "b" } }), /key "2" is not an id in 0\.\.1/);
  assert.throws(() => LabelMap.fromConfig({ id2label: { 0: "a", 1: "b" }, label2id: { a: 1, b: 0 } }), /disagrees with itself/);
  assert.throws(() => LabelMap.fromConfig({ id2label: {} }), /id2label is missing or empty/);
  assert.throws(() => LabelMap.fromConfig({ id2label: { 0: "a" }, problem_type: "ranking" }), /Unknown problem_type "ranking"/);
  // transformers' default names: integer labels mean the ids.
  const dflt = LabelMap.fromConfig({ id2label: { 0: "LABEL_0", 1: "LABEL_1" } });
  assert.equal(dflt.encode("1"), 1);
  assert.equal(dflt.encode("LABEL_0"), 0);
  assert.throws(() => dflt.encode(2), /Unknown label 2/);
});

test("regression: float labels are targets, not classes", () => {
  const map = LabelMap.fit(["0.5", "3", 4.25]);
  assert.equal(map.problemType, "regression");
  assert.equal(map.numLabels, 1);
  assert.equal(map.encode("3.75"), 3.75);
  assert.throws(() => map.encode("high"), /Cannot use "high" as a regression target/);
  assert.deepEqual(map.toConfig(), { id2label: { 0: "LABEL_0" }, label2id: { LABEL_0: 0 }, problem_type: "regression" });
  assert.equal(LabelMap.fromConfig({ problem_type: "regression" }).problemType, "regression");
  // Forced classification of float-looking labels, and forced regression of non-numbers.
  assert.deepEqual(LabelMap.fit(["1.0", "2.0"], { problemType: "single_label_classification" }).names, ["1.0", "2.0"]);
  assert.throws(() => LabelMap.fit(["a"], { problemType: "regression" }), /labels must be numbers/);
});

test("multi-label: names to multi-hot, or 0/1 vectors as given", () => {
  const map = LabelMap.fit([["sports", "politics"], ["tech"], []]);
  assert.equal(map.problemType, "multi_label_classification");
  assert.deepEqual(map.names, ["politics", "sports", "tech"]);
  assert.deepEqual(map.encode(["tech", "politics"]), [1, 0, 1]);
  assert.deepEqual(map.encode([]), [0, 0, 0]);
  assert.deepEqual(map.encode("sports"), [0, 1, 0]);
  assert.deepEqual(map.decode([1, 0, 1]), ["politics", "tech"]);
  assert.throws(() => map.encode(["art"]), /Unknown label "art"/);

  const hot = LabelMap.fit([[0, 1, 1], [1, 0, 0]]);
  assert.deepEqual(hot.names, ["0", "1", "2"]);
  assert.deepEqual(hot.encode([0, 0, 1]), [0, 0, 1]);
  assert.throws(() => hot.encode([0, 1]), /0\/1 vector of length 3/);
  assert.throws(() => LabelMap.fit(["a"]).encode(["a"]), /got a list/);
});

test("fromNames keeps the given order and refuses duplicates", () => {
  assert.deepEqual(LabelMap.fromNames(["O", "B-PER", "I-PER"]).names, ["O", "B-PER", "I-PER"]);
  assert.throws(() => LabelMap.fromNames(["a", "b", "a"]), /the label "a" appears twice/);
  assert.throws(() => LabelMap.fit([undefined, undefined]), /no row has one/);
});

test("alignLabels: a model whose labels cover the data's keeps its ids and order (run_glue)", () => {
  const model = { id2label: { 0: "pos", 1: "neg", 2: "neutral" }, label2id: { pos: 0, neg: 1, neutral: 2 } };
  const a = alignLabels(LabelMap.fit(["neg", "pos", "neg"]), model);
  assert.equal(a.source, "model");
  assert.equal(a.mismatch, undefined);
  assert.deepEqual(a.labels.names, ["pos", "neg", "neutral"]);
  assert.equal(a.labels.encode("neg"), 1);
  // Multi-label names map onto the model's positions too.
  const m = alignLabels(LabelMap.fit([["neg", "pos"]]), model);
  assert.deepEqual(m.labels.encode(["neg"]), [0, 1, 0]);
});

test("alignLabels: default LABEL_i names carry nothing; labels that do not fit are named, both sets", () => {
  const plain = alignLabels(LabelMap.fit(["b", "a"]), { id2label: { 0: "LABEL_0", 1: "LABEL_1" } });
  assert.equal(plain.source, "data");
  assert.equal(plain.mismatch, undefined);
  assert.deepEqual(plain.labels.names, ["a", "b"]);
  const off = alignLabels(LabelMap.fit(["b", "a"]), { id2label: { 0: "x", 1: "a" } });
  assert.equal(off.source, "data");
  assert.deepEqual(off.labels.names, ["a", "b"]);
  assert.match(off.mismatch!, /the model's labels \("x", "a"\) do not cover the data's labels \("a", "b"\)/);
  assert.equal(alignLabels(LabelMap.fit([0.5, 1.5]), { id2label: { 0: "score" } }).labels.problemType, "regression");
});
