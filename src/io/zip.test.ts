import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { ZipArchive } from "./zip.js";
import { storedZip } from "../testing/zip_testing.js";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/io/${name}`, import.meta.url)));

test("zip: torch's zip64 archive lists its records, stored entries are views", () => {
  const bytes = fixture("state_dict.bin");
  const zip = new ZipArchive(bytes, "state_dict.bin");
  assert.ok(zip.entries.has("state_dict/data.pkl") && zip.entries.has("state_dict/version"));
  assert.equal(new TextDecoder().decode(zip.read("state_dict/version")).trim(), "3");
  const data0 = zip.read("state_dict/data/0");
  assert.equal(data0.buffer, bytes.buffer);
  assert.equal(data0.byteOffset % 64, 0, "torch aligns records to 64 bytes");
});

test("zip: deflated entries from Python's zipfile inflate to the stored bytes", () => {
  const stored = new ZipArchive(fixture("state_dict.bin"));
  const deflated = new ZipArchive(fixture("deflated.bin"));
  assert.equal(deflated.entries.get("state_dict/data.pkl")!.method, 8);
  for (const name of stored.entries.keys()) assert.deepEqual(deflated.read(name), stored.read(name), name);
});

test("zip: a hand-made archive round-trips; broken ones are WhetErrors", () => {
  const zip = storedZip({ "a/x": "hello", "a/y": new Uint8Array([1, 2]) });
  assert.equal(new TextDecoder().decode(new ZipArchive(zip).read("a/x")), "hello");
  assert.throws(() => new ZipArchive(new Uint8Array(10), "t.zip"), /Cannot read zip archive t\.zip: no end-of-central-directory record/);
  assert.throws(() => new ZipArchive(zip).read("a/z"), /no entry "a\/z"/);
  const lying = zip.slice();
  new DataView(lying.buffer).setUint32(lying.length - 6, 1 << 30, true); // central directory offset
  assert.throws(() => new ZipArchive(lying), /central directory at bytes \[1073741824, \d+\) lies outside/);
  assert.throws(() => new ZipArchive(storedZip({ "a": "1", "b": "2" }).map((b, i, all) => (i === all.length - 22 + 10 ? 3 : b))), /runs past the directory/);
});

test("zip: fuzzed archives are read or rejected with a WhetError, never anything else", () => {
  const base = fixture("deflated.bin");
  const rng = new Rng(3, 5);
  for (let iter = 0; iter < 1500; iter++) {
    let bytes = base.slice();
    if (rng.int(4) === 0) bytes = bytes.subarray(0, rng.int(bytes.length));
    for (let k = 0; k < 1 + rng.int(3) && bytes.length; k++) {
      // Aim at the central directory and end records, where the offsets are.
      const at = rng.int(2) ? Math.max(0, bytes.length - 1 - rng.int(700)) : rng.int(bytes.length);
      bytes[at] ^= 1 << rng.int(8);
    }
    try {
      const zip = new ZipArchive(bytes, "fuzz");
      for (const name of zip.entries.keys()) zip.read(name);
    } catch (e) {
      if (!(e instanceof WhetError)) assert.fail(`iteration ${iter}: ${String(e)}`);
    }
  }
});
