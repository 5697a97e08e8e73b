import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readConll } from "./conll.js";
import { resolveLabelNames, tagNamesBeside } from "./label_names.js";

test("label names: a comma list, a file, a list; mistakes named", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-names-"));
  try {
    assert.deepEqual(resolveLabelNames("neg, neu,pos"), ["neg", "neu", "pos"]);
    assert.deepEqual(resolveLabelNames(["b", "a"]), ["b", "a"]);
    await writeFile(join(dir, "names.txt"), "O\nB-PER\nI-PER\n\n");
    assert.deepEqual(resolveLabelNames(join(dir, "names.txt")), ["O", "B-PER", "I-PER"]);
    assert.throws(() => resolveLabelNames("nosuchfile.txt"), /--label-names nosuchfile\.txt: no such file/);
    assert.throws(() => resolveLabelNames("a,b,a"), /"a" appears twice/);
    assert.equal(resolveLabelNames(undefined), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("integer ner_tags take their names from a tags.txt beside the data, not from the digits", async () => {
  const dir = await mkdtemp(join(tmpdir(), "whet-tags-"));
  try {
    const data = join(dir, "train.jsonl");
    await writeFile(data, '{"tokens": ["Ada", "Lovelace", "wrote"], "ner_tags": [1, 2, 0]}\n');
    assert.equal(tagNamesBeside(data), undefined);
    await writeFile(join(dir, "tags.txt"), "O\nB-PER\nI-PER\n");
    const beside = tagNamesBeside(data)!;
    assert.deepEqual(beside.names, ["O", "B-PER", "I-PER"]);
    const t = await readConll(data, { tagNames: beside.names });
    assert.deepEqual(t.sentences[0].tags, ["B-PER", "I-PER", "O"]);
    assert.equal(t.iob2.violations, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
