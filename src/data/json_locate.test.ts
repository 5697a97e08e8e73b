import assert from "node:assert/strict";
import { test } from "node:test";
import { locateJsonError } from "./json_locate.js";

test("locateJsonError: null exactly when JSON.parse accepts the text", () => {
  const valid = ['{"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"], "b": {}}', "[]", '"s"', " 0 ", '{"k":{"n":[[]]}}'];
  const invalid = ['{"a": 1,}', "{'a': 1}", '{"a" 1}', '{"a": tru}', '{"a": 01}', '{"a": "x', "[1 2]", '{"a": 1} x',
    '{"a": "\\q"}', "", '{"a": -}', '{"a":\t"tab\there"}', "[1,]", "{,}"];
  for (const t of valid) assert.equal(locateJsonError(t), null, t);
  for (const t of invalid) {
    assert.throws(() => JSON.parse(t), SyntaxError, `JSON.parse should reject ${t}`);
    assert.notEqual(locateJsonError(t), null, t);
  }
});

test("locateJsonError: the offending position and a reason", () => {
  assert.deepEqual(locateJsonError('{"a": 1,}'), { offset: 8, reason: 'trailing comma before "}"' });
  assert.equal(locateJsonError("{'a': 1}")?.offset, 1);
  assert.match(locateJsonError("{'a': 1}")!.reason, /double-quoted/);
  assert.deepEqual(locateJsonError('{"a": 1 "b": 2}'), { offset: 8, reason: 'expected "," or "}" after a value, got character "\\""' });
  assert.equal(locateJsonError('{"text": "abc')?.reason, "unterminated string");
  assert.equal(locateJsonError('{"a": 1} {"b": 2}')?.offset, 9);
});
