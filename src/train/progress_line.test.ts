import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, ProgressLine } from "./progress_line.js";

test("progress: redraws one line on a TTY, writes nothing elsewhere", () => {
  const written: string[] = [];
  const tty = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const saved = process.env.CI;
  delete process.env.CI;
  try {
    const p = new ProgressLine(10, tty);
    p.update(5, 0.5, 1e-4);
    const line = written.at(-1)!;
    assert.ok(line.startsWith("\r\u001b[2K"), "clears the line first");
    assert.match(line, /5\/10 {2}loss 0\.5000 {2}lr 1\.00e-4 .*ETA/);
    p.finish();
    assert.equal(written.at(-1), "\n");
  } finally {
    if (saved !== undefined) process.env.CI = saved;
  }
  const plain: string[] = [];
  new ProgressLine(10, { isTTY: false, write: (s: string) => plain.push(s) } as unknown as NodeJS.WriteStream).update(1, 1, 1);
  assert.deepEqual(plain, []);
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatDuration(65), "1m05s");
  assert.equal(formatDuration(NaN), "?");
});
