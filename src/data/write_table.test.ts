import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readTable } from "./read.js";
import { delimitedField, formatTable, writeTable } from "./write_table.js";

const RECORDS = [
  { text: "plain", label: "a" },
  { text: "comma, \"quoted\"\nand a line break", label: "b" },
  { text: " padded ", label: 3 },
];

test("writeTable: CSV, TSV and JSON Lines read back as written", async () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-write-"));
  try {
    for (const ext of ["csv", "tsv", "jsonl"]) {
      const path = join(dir, `out.${ext}`);
      await writeTable(path, ["text", "label"], RECORDS);
      const back = await readTable(path);
      assert.deepEqual(back.rows.map((r) => r.text), RECORDS.map((r) => r.text), ext);
      assert.deepEqual(back.rows.map((r) => String(r.label)), ["a", "b", "3"], ext);
    }
    assert.deepEqual(readdirSync(dir).sort(), ["out.csv", "out.jsonl", "out.tsv"], "no temporary files left");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("delimitedField and formatTable: quote only when needed; JSON Lines leave out missing cells", () => {
  assert.equal(delimitedField("a b", ","), "a b");
  assert.equal(delimitedField("a,b", ","), "\"a,b\"");
  assert.equal(delimitedField("a,b", "\t"), "a,b");
  assert.equal(delimitedField("say \"hi\"", ","), "\"say \"\"hi\"\"\"");
  assert.equal(delimitedField(undefined, ","), "");
  assert.equal(formatTable("jsonl", ["text", "pair"], [{ text: "x" }]), "{\"text\":\"x\"}\n");
  assert.equal(formatTable("csv", ["text", "pair"], [{ text: "x" }]), "text,pair\nx,\n");
});
