import assert from "node:assert/strict";
import { test } from "node:test";
import { rowCandidates } from "./beam_candidates.js";
import { BeamHypotheses, processRow } from "./beam_search.js";
import type { GenerationConfig } from "./generation_config.js";

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
  const vocab = 5,
    eos = 0;
  const scores = [
    [-1, -0.5, -3, -2, -9], // beam 0: eos -1 ranks 2nd
    [-0.2, -4, -4, -4, -9], // beam 1: eos -0.2 ranks 1st
  ];
  const cands = [5, 1, 0, 3].map((flat) => ({ flat, score: scores[Math.floor(flat / vocab)][flat % vocab] }));
  const h = new BeamHypotheses(2, 1.0, false, 10);
  const next = processRow(h, 0, cands, vocab, eos, 3, (beam) => [7, beam + 10]);
  assert.deepEqual(next, { scores: [-0.5, -2], tokens: [1, 3], sources: [0, 0] });
  // beam 0's </s> ranks 3rd (>= num_beams): skipped, as BeamSearchScorer.process does.
  assert.deepEqual(h.beams, [{ score: -0.2 / 2, tokens: [7, 11] }]);
});

const cfg = (o: Partial<GenerationConfig>): GenerationConfig => ({
  max_length: 10,
  max_new_tokens: null,
  min_length: 0,
  num_beams: 2,
  length_penalty: 1,
  early_stopping: false,
  decoder_start_token_id: 4,
  eos_token_id: 0,
  pad_token_id: 4,
  forced_eos_token_id: 0,
  bad_words_ids: [[4]],
  num_return_sequences: 1,
  do_sample: false,
  temperature: 1,
  top_k: 50,
  top_p: 1,
  seed: 0,
  ...o,
});

test("beam candidates: log-softmax without pad plus running score, banned tokens out, ranked as topk", () => {
  const logits = Float32Array.of(0, 1, 2, 3, 9, /* beam 1 */ 3, 0, 0, 0, 9);
  const lse = (row: number[]) => Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
  const lses = Float32Array.of(lse([0, 1, 2, 3]), lse([3, 0, 0, 0]));
  const seqs = [
    [4, 1],
    [4, 2],
  ];
  const got = rowCandidates(logits, lses, 0, seqs, [-1, -2], cfg({ bad_words_ids: [[4], [2, 3]] }), 10, 5);
  // pad (4) never; token 3 is banned after 2 for beam 1 only ([2, 3] is a bad sequence).
  const want = [
    { flat: 3, score: Math.fround(Math.fround(3 - lses[0]) - 1) },
    { flat: 5, score: Math.fround(Math.fround(3 - lses[1]) - 2) },
    { flat: 2, score: Math.fround(Math.fround(2 - lses[0]) - 1) },
    { flat: 1, score: Math.fround(Math.fround(1 - lses[0]) - 1) },
  ];
  assert.deepEqual(got, want);
  // min_length bans </s> until the sequence is long enough.
  const early = rowCandidates(logits, lses, 0, seqs, [-1, -2], cfg({ min_length: 5 }), 10, 5);
  assert.ok(!early.some((c) => c.flat % 5 === 0));
});

test("beam candidates: at the last step only </s> is finite; -inf candidates fill up as topk returns them", () => {
  const logits = new Float32Array(10).fill(1);
  const got = rowCandidates(
    logits,
    Float32Array.of(0, 0),
    0,
    [
      [4, 1, 1],
      [4, 2, 2],
    ],
    [-1, -3],
    cfg({}),
    4,
    5,
  );
  assert.deepEqual(got.slice(0, 2), [
    { flat: 0, score: -1 },
    { flat: 5, score: -3 },
  ]);
  assert.deepEqual(
    got.slice(2).map((c) => c.score),
    [-Infinity, -Infinity],
  );
});
