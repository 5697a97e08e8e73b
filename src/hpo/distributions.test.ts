import assert from "node:assert/strict";
import { test } from "node:test";
import {
  categoricalDistribution, checkCompatible, contains, distributionFromJson, distributionToJson, floatDistribution,
    intDistribution,
  toExternal, toInternal,
} from "./distributions.js";
import { pyDumps, pyFloatRepr, pyLoads } from "./py_json.js";

test("distribution JSON is byte for byte what Optuna 3.1 writes", () => {
  // strings printed by optuna.distributions.distribution_to_json
  assert.equal(distributionToJson(floatDistribution(1e-5, 1e-3, { log: true })),
    '{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.001, "log": true}}');
  assert.equal(distributionToJson(floatDistribution(0, 1, { step: 0.3 })),
    '{"name": "FloatDistribution", "attributes": {"step": 0.3, "low": 0.0, "high": 0.9, "log": false}}');
  assert.equal(distributionToJson(intDistribution(1, 64, { log: true })),
    '{"name": "IntDistribution", "attributes": {"log": true, "step": 1, "low": 1, "high": 64}}');
  assert.equal(distributionToJson(intDistribution(0, 11, { step: 2 })),
    '{"name": "IntDistribution", "attributes": {"log": false, "step": 2, "low": 0, "high": 10}}');
  assert.equal(distributionToJson(categoricalDistribution(["a", 1, 2.5, null, true])),
    '{"name": "CategoricalDistribution", "attributes": {"choices": ["a", 1, 2.5, null, true]}}');
});

test("JSON round trip, including Optuna 2's distribution names", () => {
  for (const d of [floatDistribution(-1, 1), floatDistribution(0.1, 2, { step: 0.1 }),
    intDistribution(2, 9, { step: 3 }),
    categoricalDistribution([16, 32])]) {
    assert.deepEqual(distributionFromJson(distributionToJson(d)), d);
  }
  assert.deepEqual(distributionFromJson('{"name": "LogUniformDistribution", "attributes": {"low": 0.001, "high": ' +
    '0.1}}'),
    floatDistribution(0.001, 0.1, { log: true }));
});

test("categorical values are stored as their choice index", () => {
  const d = categoricalDistribution([16, 32, "x"]);
  assert.equal(toInternal(d, 32), 1);
  assert.equal(toExternal(d, 2), "x");
  assert.throws(() => toInternal(d, 64), /64 is not one of the choices/);
  assert.equal(toExternal(intDistribution(1, 5), 3.0000001), 3);
  assert.ok(contains(floatDistribution(0, 1, { step: 0.25 }), 0.75));
  assert.ok(!contains(floatDistribution(0, 1, { step: 0.25 }), 0.7));
});

test("bad ranges are refused with Optuna's reasons", () => {
  assert.throws(() => floatDistribution(1, 0), /low must be smaller than or equal to high \(low=1, high=0\)/);
  assert.throws(() => floatDistribution(0, 1, { log: true }), /larger than 0 for a log distribution/);
  assert.throws(() => floatDistribution(1, 2, { log: true, step: 0.1 }), /step is not supported when log/);
  assert.throws(() => intDistribution(0, 5, { log: true }), /at least 1 for a log/);
  assert.throws(() => intDistribution(1.5, 5), /must be integers/);
  assert.throws(() => categoricalDistribution([]), /must not be empty/);
  assert.throws(() => checkCompatible("x", floatDistribution(0, 1), intDistribution(0, 1)), /parameter "x" was float/);
});

test("Python's json.dumps format: float repr, ensure_ascii, NaN", () => {
  assert.equal(pyFloatRepr(1e-5), "1e-05");
  assert.equal(pyFloatRepr(0.0001), "0.0001");
  assert.equal(pyFloatRepr(1e16), "1e+16");
  assert.equal(pyFloatRepr(123456.5), "123456.5");
  assert.equal(pyFloatRepr(2), "2.0");
  assert.equal(pyFloatRepr(1.5e-7), "1.5e-07");
  assert.equal(pyDumps({ a: [1, 2.5, null], "é": "ü", n: NaN }),
    '{"a": [1, 2.5, null], "\\u00e9": "\\u00fc", "n": NaN}');
  assert.deepEqual(pyLoads('{"x": NaN, "y": [Infinity, -Infinity], "s": "NaN"}'),
    { x: NaN, y: [Infinity, -Infinity], s: "NaN" });
});
