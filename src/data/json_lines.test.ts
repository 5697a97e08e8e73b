import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseJsonLines, streamJsonLines, type JsonLine } from "./json_lines.js";

test("JSON Lines: records with their lines; blank lines skipped; errors name file and line", () => {
  assert.deepEqual(parseJsonLines('{"a":1}\r\n\n{"b":"x"}\n', "f.jsonl"), [{ value: { a: 1 }, line: 1 }, { value: { b: "x" }, line: 3 }]);
  assert.throws(() => parseJsonLines('{"a":1}\n{"a":', "f.jsonl"), /f\.jsonl:2: not valid JSON/);
  assert.throws(() => parseJsonLines("[1, 2]", "f.jsonl"), /f\.jsonl:1: expected a JSON object, got an array/);
});

async function collect(path: string, chunkBytes?: number): Promise<JsonLine[]> {
  const out: JsonLine[] = [];
  for await (const rec of streamJsonLines(path, chunkBytes)) out.push(rec);
  return out;
}

test("JSON Lines streamed: the records, lines and errors of the whole-file parse, whatever the chunk size", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-jsonl-"));
  try {
    const file = join(dir, "f.jsonl");
    const text = '\uFEFF{"a":"héllo 😀"}\r\n\n{"b":[1,2]}\n   \n{"c":"日本語"}';
    writeFileSync(file, text);
    const whole = parseJsonLines(text.slice(1), file);
    assert.equal(whole.length, 3);
    for (const chunk of [1, 2, 3, 7, 1 << 16]) assert.deepEqual(await collect(file, chunk), whole, `chunks of ${chunk} bytes`);
    writeFileSync(file, '{"a":1}\n{"a":1}\n{"a":');
    await assert.rejects(collect(file, 4), /f\.jsonl:3: not valid JSON/);
    writeFileSync(file, Buffer.concat([Buffer.from('{"a":1}\n{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]));
    await assert.rejects(collect(file, 3), /f\.jsonl:2: not valid UTF-8/);
    await assert.rejects(collect(file), /f\.jsonl:2: not valid UTF-8/);
    await assert.rejects(collect(join(dir, "missing.jsonl")), /reading .*missing\.jsonl: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
