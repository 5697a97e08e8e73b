import assert from "node:assert/strict";
import { test } from "node:test";
import { parseJsonLines } from "./json_lines.js";

test("JSON Lines: records with their lines; blank lines skipped; errors name file and line", () => {
  assert.deepEqual(parseJsonLines('{"a":1}\r\n\n{"b":"x"}\n', "f.jsonl"), [{ value: { a: 1 }, line: 1 }, { value: { b: "x" }, line: 3 }]);
  assert.throws(() => parseJsonLines('{"a":1}\n{"a":', "f.jsonl"), /f\.jsonl:2: not valid JSON/);
  assert.throws(() => parseJsonLines("[1, 2]", "f.jsonl"), /f\.jsonl:1: expected a JSON object, got an array/);
});
