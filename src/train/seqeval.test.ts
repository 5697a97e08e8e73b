import assert from "node:assert/strict";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { entities, type EntityScores, prfFromCounts, seqevalReport } from "./seqeval.js";

// python3-seqeval is not packaged for Debian, so the expected entities below are derived by hand
// from seqeval 1.2.2's rules (each case says why), plus tables and docstring numbers published in
// seqeval's own repository (tests/test_scheme.py, metrics/sequence_labeling.py).

const spans = (tags: string[], mode: "default" | "strict" = "default") =>
  entities(tags, mode).map((e) => `${e.type} ${e.start}-${e.end}`);

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-12, `${a} vs ${b}`);
function scores(actual: EntityScores, [p, r, f, support]: [number, number, number, number]) {
  close(actual.precision, p); close(actual.recall, r); close(actual.f1, f);
  assert.equal(actual.support, support);
}

test("seqeval: tricky sequences, default (conlleval) mode and strict IOB2 mode", () => {
  // [tags, default-mode entities, strict-mode entities]; spans are [start, end) token indices.
  const cases: [string, string[], string[], string[]][] = [
    // conlleval: an I- after O opens an entity; strict IOB2: only B- opens one, so nothing.
    ["I- after O", ["O", "I-PER", "I-PER", "O"], ["PER 1-3"], []],
    // The type changes inside the entity: default closes PER and opens LOC at the I-LOC;
    // strict ends PER there and drops the I-LOC run, which has no B-LOC.
    ["type switch", ["B-PER", "I-PER", "I-LOC", "I-LOC"], ["PER 0-2", "LOC 2-4"], ["PER 0-2"]],
    // An entity running to the last token is closed by the implicit trailing O, in both modes.
    ["entity at end", ["O", "B-LOC", "I-LOC"], ["LOC 1-3"], ["LOC 1-3"]],
    // B- right after B- of the same type: two entities, not one, in both modes.
    ["B- B- adjacent", ["B-PER", "B-PER", "I-PER"], ["PER 0-1", "PER 1-3"], ["PER 0-1", "PER 1-3"]],
    // B-X then I-Y: default reads two one-token entities, strict only the B-X one.
    ["B-X I-Y", ["B-PER", "I-LOC", "O"], ["PER 0-1", "LOC 1-2"], ["PER 0-1"]],
    // An I- of the same type after a finished entity and an O: a new entity for default only.
    ["I- after a gap", ["B-ORG", "O", "I-ORG"], ["ORG 0-1", "ORG 2-3"], ["ORG 0-1"]],
    // Types may contain "-"; default splits at the first "-" after the prefix, strict strips "-".
    ["dashed type", ["B-ORG-CO", "I-ORG-CO"], ["ORG-CO 0-2"], ["ORG-CO 0-2"]],
    // Bare prefixes have type "_".
    ["no type", ["B", "I", "O", "I"], ["_ 0-2", "_ 3-4"], ["_ 0-2"]],
    ["empty", [], [], []],
    ["all O", ["O", "O"], [], []],
  ];
  for (const [name, tags, dflt, strict] of cases) {
    assert.deepEqual(spans(tags), dflt, `${name} (default)`);
    assert.deepEqual(spans(tags, "strict"), strict, `${name} (strict)`);
  }
  // Default mode also reads IOBES (E- closes, S- is a single-token entity), as seqeval does.
  assert.deepEqual(spans(["S-PER", "B-LOC", "E-LOC", "E-LOC"]), ["PER 0-1", "LOC 1-3", "LOC 3-4"]);
});

test("seqeval: IOB1 files (entities open with I-) and WNUT-17's dashed types", () => {
  // IOB1 (CoNLL-2003 as first published): I- opens an entity, B- only splits two adjacent ones of
  // one type. seqeval's default (conlleval) chunking reads that as intended; strict IOB2 keeps
  // only the B- entity, so IOB1 files must be scored in default mode (whet's default too).
  const iob1 = ["I-PER", "I-PER", "B-PER", "O", "I-LOC"];
  assert.deepEqual(spans(iob1), ["PER 0-2", "PER 2-3", "LOC 4-5"]);
  assert.deepEqual(spans(iob1, "strict"), ["PER 2-3"]);
  // WNUT-17's types hold a dash ("creative-work"): the type is everything after "B-" / "I-",
  // and an I- of another type after an entity starts a new entity in default mode only.
  const wnut = ["B-creative-work", "I-creative-work", "O", "B-person", "I-person", "I-location"];
  assert.deepEqual(spans(wnut), ["creative-work 0-2", "person 3-5", "location 5-6"]);
  assert.deepEqual(spans(wnut, "strict"), ["creative-work 0-2", "person 3-5"]);
  // Scores by type keep the dashed names whole (evaluate's seqeval: "creative-work" → its f1).
  const r = seqevalReport([wnut], [["B-creative-work", "I-creative-work", "O", "B-person", "O", "O"]]);
  assert.deepEqual(Object.keys(r.types), ["creative-work", "location", "person"]);
  scores(r.types["creative-work"], [1, 1, 1, 1]);
  scores(r.types.person, [0, 0, 0, 1]);
  scores(r.micro, [1 / 2, 1 / 3, 0.4, 3]);
});

test("seqeval: strict IOB2 agrees with seqeval's own test table (tests/test_scheme.py)", () => {
  // test_iob2_tokens and test_iob2_tokens_without_tag, entities as (type, start, end).
  const table: [string[], string[]][] = [
    [["B-PER"], ["PER 0-1"]], [["I-PER"], []], [["O"], []], [["O", "I-PER"], []],
    [["O", "B-PER"], ["PER 1-2"]], [["I-PER", "O"], []], [["I-PER", "I-PER"], []], [["I-PER", "I-ORG"], []],
    [["I-PER", "B-PER"], ["PER 1-2"]], [["I-PER", "B-ORG"], ["ORG 1-2"]], [["B-PER", "O"], ["PER 0-1"]],
    [["B-PER", "I-PER"], ["PER 0-2"]], [["B-PER", "I-ORG"], ["PER 0-1"]],
    [["B-PER", "B-PER"], ["PER 0-1", "PER 1-2"]], [["B-PER", "B-ORG"], ["PER 0-1", "ORG 1-2"]],
    [["B"], ["_ 0-1"]], [["I"], []], [["O", "I"], []], [["O", "B"], ["_ 1-2"]], [["I", "B"], ["_ 1-2"]],
    [["B", "O"], ["_ 0-1"]], [["B", "I"], ["_ 0-2"]], [["B", "B"], ["_ 0-1", "_ 1-2"]],
  ];
  for (const [tags, expected] of table) assert.deepEqual(spans(tags, "strict"), expected, tags.join(" "));
});

test("seqeval: strict IOB2 refuses tags outside O, B-, I- with the tag and its place", () => {
  assert.throws(() => entities(["B-PER", "E-PER"], "strict"), (e: Error) =>
    e instanceof WhetError && /invalid tag "E-PER" at position 1/.test(e.message) && /IOB2 allows only/.test(e.message));
  assert.throws(() => seqevalReport([["O"], ["X-LOC"]], [["O"], ["O"]], { mode: "strict" }),
    /invalid tag "X-LOC" at reference sentence 1, position 0/);
  assert.throws(() => entities(["B-PER", ""]), /empty tag at position 1/);
});

test("seqeval: the numbers of seqeval's docstrings (default mode)", () => {
  // sequence_labeling.py, f1_score: micro 0.6666666666666666, macro 0.75, weighted 0.666…;
  // per class [0.5, 1.0] (MISC: two reference entities, one found; PER found).
  const yTrue = [["O", "O", "B-MISC", "I-MISC", "B-MISC", "O", "O"], ["B-PER", "I-PER", "O"]];
  const yPred = [["O", "O", "B-MISC", "I-MISC", "B-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
  const r = seqevalReport(yTrue, yPred);
  assert.equal(r.micro.f1, 0.6666666666666666);
  assert.equal(r.macro.f1, 0.75);
  assert.equal(r.weighted.f1, 0.6666666666666666);
  assert.deepEqual(Object.keys(r.types), ["MISC", "PER"]);
  assert.equal(r.types.MISC.f1, 0.5);
  // accuracy_score docstring: 0.80 (8 of 10 tags equal).
  const acc = seqevalReport([["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
    [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]);
  assert.equal(acc.accuracy, 0.8);
  scores(acc.micro, [0.5, 0.5, 0.5, 2]);
});

test("seqeval: a classification report, hand-counted, in both modes", () => {
  const refs = [
    ["B-PER", "I-PER", "O", "B-LOC"], // PER 0-2, LOC 3-4
    ["O", "B-ORG", "I-ORG", "I-ORG"], // ORG 1-4
    ["B-PER", "O", "B-MISC", "I-MISC"], // PER 0-1, MISC 2-4
  ];
  const preds = [
    ["B-PER", "I-PER", "O", "I-LOC"], // PER 0-2 right; LOC 3-4 right in default mode only (I- after O)
    ["O", "B-ORG", "I-ORG", "I-LOC"], // ORG 1-3 wrong (too short); default: LOC 3-4 false positive
    ["B-PER", "O", "I-MISC", "I-MISC"], // PER 0-1 right; MISC 2-4 right in default mode only
  ];
  // Default: 5 reference entities, 6 predicted, 4 right. Types are sorted.
  const d = seqevalReport(refs, preds);
  assert.deepEqual(Object.keys(d.types), ["LOC", "MISC", "ORG", "PER"]);
  scores(d.types.LOC, [1 / 2, 1, 2 / 3, 1]);
  scores(d.types.MISC, [1, 1, 1, 1]);
  scores(d.types.ORG, [0, 0, 0, 1]);
  scores(d.types.PER, [1, 1, 1, 2]);
  scores(d.micro, [4 / 6, 4 / 5, 16 / 22, 5]);
  scores(d.macro, [2.5 / 4, 3 / 4, (2 / 3 + 2) / 4, 5]);
  scores(d.weighted, [3.5 / 5, 4 / 5, (2 / 3 + 3) / 5, 5]);
  // 12 tokens, 3 tags differ (B-LOC/I-LOC, I-ORG/I-LOC, B-MISC/I-MISC): the same in both modes.
  assert.equal(d.accuracy, 0.75);
  // Strict: the predicted entities are PER 0-2 (s0), ORG 1-3 (s1), PER 0-1 (s2): 3 predicted, 2 right.
  const s = seqevalReport(refs, preds, { mode: "strict" });
  assert.deepEqual(Object.keys(s.types), ["LOC", "MISC", "ORG", "PER"]);
  scores(s.types.LOC, [0, 0, 0, 1]);
  scores(s.types.ORG, [0, 0, 0, 1]);
  scores(s.types.PER, [1, 1, 1, 2]);
  scores(s.micro, [2 / 3, 2 / 5, 0.5, 5]);
  assert.equal(s.accuracy, 0.75);
});

test("seqeval: sentences do not run into each other; a type only predicted is reported", () => {
  // The reference PER ends sentence 0; the predicted I-PER opening sentence 1 is a new entity in
  // default mode (seqeval joins sentences with an O), a false positive of support 0.
  const r = seqevalReport([["O", "B-PER"], ["O", "O"]], [["O", "B-PER"], ["I-PER", "B-DATE"]]);
  scores(r.types.PER, [1 / 2, 1, 2 / 3, 1]);
  scores(r.types.DATE, [0, 0, 0, 0]);
  scores(r.micro, [1 / 3, 1, 0.5, 1]);
  const strict = seqevalReport([["O", "B-PER"], ["O", "O"]], [["O", "B-PER"], ["I-PER", "B-DATE"]], { mode: "strict" });
  scores(strict.micro, [1 / 2, 1, 2 / 3, 1]);
});

test("seqeval: no entities anywhere scores 0 (macro NaN, as numpy's mean of nothing)", () => {
  const r = seqevalReport([["O", "O"]], [["O", "O"]]);
  scores(r.micro, [0, 0, 0, 0]);
  scores(r.weighted, [0, 0, 0, 0]);
  assert.ok(Number.isNaN(r.macro.f1));
  assert.equal(r.accuracy, 1);
});

test("seqeval: mismatched inputs are refused with their sizes", () => {
  assert.throws(() => seqevalReport([["O"]], []), /1 reference sentences but 0 predicted sentences/);
  assert.throws(() => seqevalReport([["O", "O"]], [["O"]]), /sentence 0 has 2 reference tags but 1 predicted tags/);
  assert.throws(() => seqevalReport([[]], [[]]), /no tokens to score/);
});

test("seqeval: prfFromCounts follows sklearn's zero-division convention", () => {
  // Label 0 never predicted (precision 0/0 → 0), label 1 never present (recall 0/0 → 0).
  const r = prfFromCounts([0, 0, 2], [0, 1, 3], [2, 0, 2], "macro");
  close(r.precision, (0 + 0 + 2 / 3) / 3);
  close(r.recall, (0 + 0 + 1) / 3);
  close(r.f1, (0 + 0 + 0.8) / 3);
  assert.deepEqual(prfFromCounts([0], [0], [0], "weighted"), { precision: 0, recall: 0, f1: 0 });
});
