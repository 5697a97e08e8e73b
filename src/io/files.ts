/**
 * File helpers shared by the checkpoint readers and writers: whole-file reads beyond
 * `readFile`'s 2 GiB limit, and atomic writes (temporary name in the same folder, then rename).
 */
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { WhetError } from "../core/errors.js";

const CHUNK = 1 << 30;

/** The whole file in one Uint8Array (fs.readFile stops at 2 GiB; checkpoints go beyond). */
export async function readWholeFile(path: string): Promise<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    let out: Uint8Array;
    try {
      out = new Uint8Array(size);
    } catch (e) {
      throw new WhetError(`Reading ${path}: cannot allocate ${size} bytes for the file (${(e as Error).message})`);
    }
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(out, pos, Math.min(size - pos, CHUNK), pos);
      if (bytesRead === 0) throw new WhetError(`Reading ${path}: the file shrank from ${size} to ${pos} bytes while being read`);
      pos += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}

/**
 * Writes the chunks to `path` atomically: a crash or error never leaves a half-written file
 * under the real name (the old file, if any, stays until the rename replaces it). Chunks may
 * come from an async generator, so output larger than memory streams through.
 */
export async function writeFileAtomic(path: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx");
  let ok = false;
  try {
    for await (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) {
        const n = Math.min(chunk.byteLength - off, CHUNK);
        const { bytesWritten } = await fh.write(chunk, off, n);
        off += bytesWritten;
      }
    }
    await fh.sync(); // the data must be on disk before the rename makes it visible
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await unlink(tmp).catch(() => undefined);
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // Persist the rename itself; some platforms cannot open a folder, which is harmless.
  const d = await open(dir, "r").catch(() => undefined);
  if (d) await d.sync().catch(() => undefined).finally(() => d.close());
}
