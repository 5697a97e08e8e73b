import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeArgv } from "./argv_aliases.js";

test("argv: --learning_rate is --learning-rate; --evaluation-strategy maps with a note; values untouched", () => {
  const notes: string[] = [];
  const argv = ["train", "--learning_rate", "3e-5", "--evaluation_strategy=epoch", "--text-column", "my_text", "--", "--x_y"];
  assert.deepEqual(normalizeArgv(argv, (l) => notes.push(l)),
    ["train", "--learning-rate", "3e-5", "--eval-strategy=epoch", "--text-column", "my_text", "--", "--x_y"]);
  assert.equal(notes.length, 1);
  assert.match(notes[0], /--evaluation-strategy is called --eval-strategy now/);
});
