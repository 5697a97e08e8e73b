import assert from "node:assert/strict";
import { test } from "node:test";
import { BeamHypotheses, processRow, topCandidates } from "./beam_search.js";

test("beam hypotheses: keep the num_beams best by length-normalised score, track the worst", () => {
  const h = new BeamHypotheses(2, 1.0, false, 10);
  h.add([9, 1, 2], -3); // -1 (length 3)
  h.add([9, 1], -4); // -2
  assert.equal(h.worstScore, -2);
  h.add([9, 1, 2, 3], -2); // -0.5 pushes out -2
  assert.deepEqual(h.beams.map((b) => b.score).sort(), [-0.5, -1]);
  assert.equal(h.worstScore, -1);
  h.add([9, 5], -10); // -5: not better than the worst, not kept
  assert.equal(h.size, 2);
  assert.deepEqual(h.best().tokens, [9, 1, 2, 3]);
});

test("beam hypotheses: early stopping true, false and never", () => {
  const make = (es: boolean | "never", lp = 1.0) => {
    const h = new BeamHypotheses(1, lp, es, 20);
    h.add([9, 1, 2, 3], -4); // score -1
    return h;
  };
  assert.equal(make(true).isDone(-0.1, 5), true);
  // false: the best running score -4 over length 5 is -0.8 > -1: a beam may still win.
  assert.equal(make(false).isDone(-4, 5), false);
  assert.equal(make(false).isDone(-6, 5), true);
  // never (length_penalty > 0): the bound divides by max_length (20): -6 / 20 = -0.3 > -1.
  assert.equal(make("never").isDone(-6, 5), false);
  assert.equal(make("never").isDone(-40, 5), true);
  assert.equal(new BeamHypotheses(2, 1, true, 20).isDone(0, 3), false, "fewer hypotheses than beams");
});

test("beam step: </s> among the first num_beams finishes a hypothesis, lower ranks are skipped", () => {
  const vocab = 5, eos = 0;
  const scores = [
    [-1, -0.5, -3, -2, -9], // beam 0: eos -1 ranks 2nd
    [-0.2, -4, -4, -4, -9], // beam 1: eos -0.2 ranks 1st
  ];
  const cands = topCandidates(2, vocab, 4, (flat) => scores[Math.floor(flat / vocab)][flat % vocab]);
  assert.deepEqual(cands.map((c) => c.flat), [5, 1, 0, 3]);
  const h = new BeamHypotheses(2, 1.0, false, 10);
  const next = processRow(h, 0, cands, vocab, eos, 3, (beam) => [7, beam + 10]);
  assert.deepEqual(next, { scores: [-0.5, -2], tokens: [1, 3], sources: [0, 0] });
  // beam 0's </s> ranks 3rd (>= num_beams): skipped, as BeamSearchScorer.process does.
  assert.deepEqual(h.beams, [{ score: -0.2 / 2, tokens: [7, 11] }]);
});
