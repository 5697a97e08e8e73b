import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readCorpus } from "./corpus.js";

test("readCorpus: .txt one document per line, .jsonl a text field; bad input names file and line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-corpus-"));
  try {
    writeFileSync(join(dir, "a.txt"), "first doc\r\n\n  second doc  \n");
    assert.deepEqual(await readCorpus(join(dir, "a.txt")), ["first doc", "second doc"]);
    writeFileSync(join(dir, "b.jsonl"), '{"text": "one"}\n\n{"text": "two", "id": 3}\n');
    assert.deepEqual(await readCorpus(join(dir, "b.jsonl")), ["one", "two"]);
    writeFileSync(join(dir, "c.jsonl"), '{"body": "x"}\n');
    assert.deepEqual(await readCorpus(join(dir, "c.jsonl"), { textField: "body" }), ["x"]);
    await assert.rejects(readCorpus(join(dir, "c.jsonl")), /c\.jsonl:1: expected an object with a string "text" field, got body/);
    writeFileSync(join(dir, "d.jsonl"), '{"text": "ok"}\n{oops\n');
    await assert.rejects(readCorpus(join(dir, "d.jsonl")), /d\.jsonl:2: not valid JSON/);
    writeFileSync(join(dir, "e.csv"), "text\nx\n");
    await assert.rejects(readCorpus(join(dir, "e.csv")), /expected a \.txt file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
