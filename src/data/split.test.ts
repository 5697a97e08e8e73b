import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../core/rng.js";
import type { Label } from "./read.js";
import { allocate, stratifiedSplit } from "./split.js";

const rowsOf = (labels: Label[]) => labels.map((label, i) => ({ text: `t${i}`, label, line: i + 2 }));
const count = (rows: { label?: Label }[], l: string) => rows.filter((r) => String(r.label) === l).length;

test("stratified split: sizes, proportions, a partition, file order kept", () => {
  const rows = rowsOf([...Array(70).fill("a"), ...Array(25).fill("b"), ...Array(5).fill("c")]);
  const s = stratifiedSplit(rows, { validationSize: 0.2, seed: 1 });
  assert.equal(s.validation.length, 20);
  assert.equal(s.train.length, 80);
  assert.deepEqual([count(s.validation, "a"), count(s.validation, "b"), count(s.validation, "c")], [14, 5, 1]);
  const all = [...s.trainIndices, ...s.validationIndices].sort((x, y) => x - y);
  assert.deepEqual(all, rows.map((_, i) => i));
  assert.deepEqual(s.trainIndices, [...s.trainIndices].sort((x, y) => x - y));
  assert.deepEqual(s.warnings, []);
});

test("deterministic for a seed, different across seeds", () => {
  const rows = rowsOf(Array.from({ length: 200 }, (_, i) => ["x", "y", "z"][i % 3]));
  const a = stratifiedSplit(rows, { validationSize: 30, seed: 42 });
  const b = stratifiedSplit(rows, { validationSize: 30, seed: 42 });
  const c = stratifiedSplit(rows, { validationSize: 30, seed: 43 });
  assert.deepEqual(a.validationIndices, b.validationIndices);
  assert.notDeepEqual(a.validationIndices, c.validationIndices);
  assert.equal(a.validation.length, 30);
});

test("every class on both sides when possible, even rare ones", () => {
  // 100 rows, 10% validation; classes of 2 and 3 rows would get 0 by plain rounding.
  const rows = rowsOf([...Array(90).fill("big"), "r1", "r1", "r2", "r2", "r2", ...Array(5).fill("mid")]);
  const s = stratifiedSplit(rows, { validationSize: 0.1, seed: 7 });
  assert.equal(s.validation.length, 10);
  for (const l of ["big", "r1", "r2", "mid"]) {
    assert.ok(count(s.validation, l) >= 1, `${l} in validation`);
    assert.ok(count(s.train, l) >= 1, `${l} in train`);
  }
  assert.deepEqual(s.warnings, []);
});

test("warnings when a class cannot be on both sides", () => {
  const rows = rowsOf(["a", "a", "a", "a", "b", "b", "c"]);
  const s = stratifiedSplit(rows, { validationSize: 1, seed: 0 });
  assert.equal(s.validation.length, 1);
  assert.ok(s.warnings.some((w) => w.includes(`class "c" has a single row`)));
  assert.ok(s.warnings.some((w) => /class "[ab]" .* is only in train/.test(w)));
  assert.equal(count(s.train, "c"), 1);
});

test("invariants over random label sets and sizes", () => {
  const rng = new Rng(123);
  for (let trial = 0; trial < 200; trial++) {
    const k = 1 + rng.int(8);
    const n = 2 + rng.int(300);
    const labels = Array.from({ length: n }, () => String(Math.floor(k * rng.uniform() ** 2)));
    const v = 1 + rng.int(n - 1);
    const s = stratifiedSplit(rowsOf(labels), { validationSize: v, seed: trial });
    assert.equal(s.validation.length, v);
    assert.equal(s.train.length + s.validation.length, n);
    const classes = [...new Set(labels)];
    const both = classes.filter((c) => labels.filter((l) => l === c).length >= 2);
    // When the sizes allow it, every class with ≥ 2 rows is on both sides.
    if (v >= both.length && n - v >= classes.length) {
      for (const c of both) {
        assert.ok(count(s.validation, c) >= 1 && count(s.train, c) >= 1, `trial ${trial}: class ${c}`);
      }
    }
  }
});

test("allocate: largest remainder, totals exact", () => {
  assert.deepEqual(allocate([50, 30, 20], 10, 100), [5, 3, 2]);
  assert.deepEqual(allocate([1, 1, 98], 10, 100), [0, 0, 10]);
  assert.deepEqual(allocate([3, 3, 3], 2, 9), [0, 1, 1]); // too small for all: ties go by key order
});

test("multi-label rows stratify by their rarest label; regression by quantile bins", () => {
  const labels: Label[] = [...Array(40).fill(["common"]), ["common", "rare"], ["common", "rare"], ...Array(8).fill(["other"])];
  const s = stratifiedSplit(rowsOf(labels), { validationSize: 0.2, seed: 3 });
  const rare = (rows: { label?: Label }[]) => rows.filter((r) => (r.label as string[]).includes("rare")).length;
  assert.equal(rare(s.validation), 1);
  assert.equal(rare(s.train), 1);

  const targets = Array.from({ length: 100 }, (_, i) => i / 10 + 0.5);
  const r = stratifiedSplit(rowsOf(targets), { validationSize: 0.1, seed: 3 });
  // One row from each tenth of the range.
  assert.deepEqual(r.validation.map((x) => Math.floor(((x.label as number) - 0.5))), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("plain random split and bad sizes", () => {
  const rows = rowsOf(Array(10).fill("a"));
  assert.equal(stratifiedSplit(rows, { validationSize: 0.3, seed: 1, stratify: false }).validation.length, 3);
  assert.throws(() => stratifiedSplit(rows, { validationSize: 10, seed: 1 }), /count in 1\.\.9/);
  assert.throws(() => stratifiedSplit(rows, { validationSize: 0.01, seed: 1 }), /validationSize 0\.01/);
});
