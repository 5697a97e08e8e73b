import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { decodeText, findInvalidUtf8, readTextFile, splitLines } from "./text_file.js";

const dir = await mkdtemp(join(tmpdir(), "whet-text-"));
after(() => rm(dir, { recursive: true, force: true }));

const utf8 = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? Array.from(utf8(p)) : p)));

test("findInvalidUtf8: the offset of the first bad sequence", () => {
  assert.equal(findInvalidUtf8(utf8("héllo wörld €𝄞")), -1);
  assert.equal(findInvalidUtf8(cat("abc", [0xff], "d")), 3);
  assert.equal(findInvalidUtf8(cat("é", [0xc3, 0x28])), 2); // lead byte, then not a continuation
  assert.equal(findInvalidUtf8(cat("ab", [0xc0, 0xaf])), 2); // overlong "/"
  assert.equal(findInvalidUtf8(cat("x", [0xed, 0xa0, 0x80])), 1); // a UTF-16 surrogate
  assert.equal(findInvalidUtf8(cat("x", [0xf4, 0x90, 0x80, 0x80])), 1); // above U+10FFFF
  assert.equal(findInvalidUtf8(cat("tail", [0xe2, 0x82])), 4); // truncated at the end
});

test("findInvalidUtf8 agrees with TextDecoder's fatal mode on random bytes", () => {
  const rng = new Rng(7);
  const fatal = new TextDecoder("utf-8", { fatal: true });
  for (let trial = 0; trial < 2000; trial++) {
    // Mostly valid text with a few random bytes, so errors land at varied offsets.
    const bytes = cat("ok é€", Array.from({ length: rng.int(6) }, () => rng.int(256)), "𝄞 end");
    const at = findInvalidUtf8(bytes);
    let valid = true;
    try { fatal.decode(bytes); } catch { valid = false; }
    assert.equal(at === -1, valid, `bytes ${Array.from(bytes)}`);
    if (at >= 0) assert.doesNotThrow(() => fatal.decode(bytes.subarray(0, at)));
  }
});

test("decodeText: invalid UTF-8 names the byte offset, line and bytes", () => {
  const bytes = cat("text,label\nfine,1\nca", [0xe9], "fé,0\n");
  assert.throws(() => decodeText(bytes, `"x.csv"`),
    (e: Error) => e instanceof WhetError && /invalid UTF-8 at byte offset 20 \(line 3, bytes e9 66 c3 a9\)/.test(e.message) &&
      /encoding: "latin1"/.test(e.message));
  assert.equal(decodeText(bytes, "x", "latin1"), "text,label\nfine,1\ncaéfÃ©,0\n");
});

test("decodeText: BOM removed, UTF-16 and NUL bytes refused", () => {
  assert.equal(decodeText(cat([0xef, 0xbb, 0xbf], "a,b"), "x"), "a,b");
  assert.throws(() => decodeText(new Uint8Array([0xff, 0xfe, 0x61, 0x00]), "x"), /UTF-16/);
  assert.throws(() => decodeText(cat("a\nb", [0], "c"), "x"), /NUL byte at byte offset 3 \(line 2\)/);
});

test("readTextFile: a missing file is a clear error", async () => {
  await assert.rejects(readTextFile(join(dir, "nope.csv")), /Cannot read ".*nope\.csv": no such file/);
  await writeFile(join(dir, "a.txt"), "x\r\ny\n");
  assert.deepEqual(splitLines(await readTextFile(join(dir, "a.txt"))), ["x", "y"]);
});

test("splitLines: LF and CRLF, a final newline adds no line", () => {
  assert.deepEqual(splitLines("a\r\nb\n\nc"), ["a", "b", "", "c"]);
  assert.deepEqual(splitLines("a\n"), ["a"]);
  assert.deepEqual(splitLines(""), []);
});

test("readTextFile refuses a FIFO and a device before opening them (they would block or read forever)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "whet-fifo-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, "train.csv");
  if (spawnSync("mkfifo", [fifo]).status !== 0) return t.skip("mkfifo is not available");
  await assert.rejects(readTextFile(fifo), /train\.csv: it is a FIFO \(named pipe\); expected a regular file/);
  await assert.rejects(readTextFile("/dev/zero"), /\/dev\/zero: it is a character device; expected a regular file/);
});
