import assert from "node:assert/strict";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { planTruncation } from "./truncation.js";

/** transformers 4.30 `truncate_sequences`, "longest_first" on a pair, as the Python loop reads (right side). */
function pythonLongestFirst(a: number, b: number, toRemove: number): [number, number] {
  for (let i = 0; i < toRemove; i++) {
    if (a > b) a = Math.max(a - 1, 0);
    else b = Math.max(b - 1, 0);
  }
  return [a, b];
}

test("longest_first on pairs equals transformers' one-token-at-a-time loop for every small case", () => {
  for (let a = 0; a <= 12; a++) {
    for (let b = 0; b <= 12; b++) {
      for (let max = 3; max <= 30; max++) {
        const toRemove = a + b + 3 - max;
        const want = toRemove > 0 ? pythonLongestFirst(a, b, toRemove) : [a, b];
        assert.deepEqual(planTruncation(a, b, 3, max, "longest_first"), want, `a=${a} b=${b} max=${max}`);
      }
    }
  }
});

test("longest_first: the special tokens count, the longer loses first, a tie goes to the second", () => {
  assert.deepEqual(planTruncation(10, 4, 3, 12, "longest_first"), [5, 4]);
  assert.deepEqual(planTruncation(4, 10, 3, 12, "longest_first"), [4, 5]);
  // Budget 9 for two sequences of 10: the first keeps 5, the second 4 (Rust's fast tokenizer would say 4 and 5).
  assert.deepEqual(planTruncation(10, 10, 3, 12, "longest_first"), [5, 4]);
  assert.deepEqual(planTruncation(8, 3, 2, 100, "longest_first"), [8, 3], "nothing to remove");
});

test("single sequence: longest_first and only_first cut the end, keeping at least one token", () => {
  assert.deepEqual(planTruncation(10, null, 2, 6, "longest_first"), [4, null]);
  assert.deepEqual(planTruncation(10, null, 2, 6, "only_first"), [4, null]);
  assert.deepEqual(planTruncation(10, null, 0, 6, "only_first"), [6, null]);
  assert.throws(() => planTruncation(4, null, 2, 2, "longest_first"), WhetError);
});

test("only_first / only_second cut one side and fail clearly when that side is too short", () => {
  assert.deepEqual(planTruncation(10, 6, 3, 12, "only_first"), [3, 6]);
  assert.deepEqual(planTruncation(6, 10, 3, 12, "only_second"), [6, 3]);
  assert.throws(() => planTruncation(3, 10, 3, 12, "only_first"), /first sequence has only 3/);
  assert.throws(() => planTruncation(10, 3, 3, 12, "only_second"), /second sequence has only 3/);
  assert.throws(() => planTruncation(10, null, 2, 8, "only_second"), /needs a pair/);
});

test("a maxLength below the special tokens, or not an integer, is an error", () => {
  assert.throws(() => planTruncation(5, 5, 3, 2, "longest_first"), /special tokens alone take 3/);
  assert.throws(() => planTruncation(5, null, 2, 1.5, "longest_first"), /non-negative integer/);
});
