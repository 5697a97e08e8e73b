import assert from "node:assert/strict";
import { test } from "node:test";
import { findDuplicateKey } from "./json_keys.js";

test("duplicate keys are found with their object path and line; equal keys in different objects are fine", () => {
  assert.deepEqual(findDuplicateKey('{"a": 1,\n "a": 2}'), { key: "a", path: "", line: 2 });
  assert.deepEqual(findDuplicateKey('{"id2label": {"0": "x", "1": "y", "0": "z"}}'), { key: "0", path: "id2label", line: 1 });
  assert.equal(findDuplicateKey('{"a": {"k": 1}, "b": {"k": 1}, "c": ["a", "a", {"k": "\\"a\\""}]}'), null);
  assert.equal(findDuplicateKey('{"a\\"": 1, "a": 2}'), null);
  assert.deepEqual(findDuplicateKey('[{"x": 1}, {"y": 1, "y": 2}]')?.key, "y");
});
