import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import { sampleToken, warpScores } from "./sampling.js";

const off = { temperature: 1, top_k: 0, top_p: 1 };

test("sampling warpers: temperature divides, top-k keeps ties with the k-th score, top-p keeps the head", () => {
  const t = Float64Array.of(2, 4, -6);
  warpScores(t, { ...off, temperature: 2 });
  assert.deepEqual([...t], [1, 2, -3]);
  const k = Float64Array.of(1, 3, 3, 2, 0);
  warpScores(k, { ...off, top_k: 2 });
  assert.deepEqual([...k], [-Infinity, 3, 3, -Infinity, -Infinity]);
  // probabilities 0.5, 0.25, 0.125, 0.125: top_p 0.7 keeps 0.5 and 0.25 (the tail 0.25 <= 0.3 goes).
  const p = Float64Array.from([0.5, 0.25, 0.125, 0.125].map(Math.log));
  warpScores(p, { ...off, top_p: 0.7 });
  assert.deepEqual(
    [...p].map((v) => v === -Infinity),
    [false, false, true, true],
  );
  const one = Float64Array.of(0, 5, 1);
  warpScores(one, { ...off, top_p: 0.01 });
  assert.deepEqual(
    [...one].map((v) => v === -Infinity),
    [true, false, true],
    "at least one token stays",
  );
});

test("sampling: draws follow the distribution, never a -inf token, and repeat for a seed", () => {
  const scores = Float64Array.from([0.6, 0.3, 0.1, 0].map((q) => (q ? Math.log(q) : -Infinity)));
  const draw = (seed: number) => {
    const rng = new Rng(seed);
    return Array.from({ length: 4000 }, () => sampleToken(scores, rng));
  };
  const a = draw(1);
  assert.deepEqual(a, draw(1));
  assert.notDeepEqual(a, draw(2));
  const freq = [0, 1, 2, 3].map((i) => a.filter((x) => x === i).length / a.length);
  assert.equal(freq[3], 0);
  [0.6, 0.3, 0.1].forEach((q, i) => assert.ok(Math.abs(freq[i] - q) < 0.03, `token ${i}: ${freq[i]} vs ${q}`));
});
