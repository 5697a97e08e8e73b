import assert from "node:assert/strict";
import { test } from "node:test";
import { appendAll, maxOf } from "./iter.js";

test("maxOf and appendAll take a million items, where spreads overflow the stack", () => {
  const big = Array.from({ length: 1_000_000 }, (_, i) => i);
  assert.throws(() => Math.max(...big), RangeError);
  assert.equal(maxOf(big), 999_999);
  assert.equal(maxOf([], -1), -1);
  assert.equal(maxOf(new Map([["a", 3], ["b", 7]]).values(), -1), 7);
  assert.equal(appendAll([1], big).length, 1_000_001);
});
