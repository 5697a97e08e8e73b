/**
 * File helpers shared by the checkpoint readers and writers: whole-file reads beyond
 * `readFile`'s 2 GiB limit, and atomic writes (temporary name in the same folder, then rename).
 */
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { WhetError } from "../core/errors.js";
import { assertRegularFile } from "../core/regular_file.js";

const CHUNK = 1 << 30;

/** The whole file in one Uint8Array (fs.readFile stops at 2 GiB; checkpoints go beyond). */
export async function readWholeFile(path: string): Promise<Uint8Array> {
  assertRegularFile(path);
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
 * Writes the chunks to `path` atomically: a crash, a full disk or an error never leaves a
 * half-written file under the real name (the old file, if any, stays until the rename replaces
 * it). Chunks may come from an async generator, so output larger than memory streams through.
 * Failures are WhetErrors naming the path (`ENOSPC` says the disk is full).
 *
 * @example
 * await writeFileAtomic("out/predictions.jsonl", [new TextEncoder().encode(lines)]);
 */
export async function writeFileAtomic(
  path: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx").catch((e: unknown) => {
    throw writeError(path, e);
  });
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
  } catch (e) {
    throw writeError(path, e);
  } finally {
    await fh.close().catch(() => undefined);
    if (!ok) await unlink(tmp).catch(() => undefined);
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw writeError(path, e);
  }
  // Persist the rename itself; some platforms cannot open a folder, which is harmless.
  const d = await open(dir, "r").catch(() => undefined);
  if (d) await d.sync().catch(() => undefined).finally(() => d.close());
}

/** `writeFileAtomic` for text (UTF-8): reports, predictions, JSON. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, [Buffer.from(text, "utf8")]);
}

const WRITE_CAUSES: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOENT: "the folder does not exist",
  EISDIR: "a folder has that name",
  ENOTDIR: "a part of the path is a file, not a folder",
};

/** A write failure as a message naming the file; the real name was left as it was. */
export function writeError(path: string, e: unknown): WhetError {
  if (e instanceof WhetError) return e;
  const code = (e as { code?: string }).code ?? "";
  const cause = WRITE_CAUSES[code] ? `${WRITE_CAUSES[code]} (${code})` : (e as Error).message;
  return new WhetError(`Writing ${path}: ${cause}; nothing was written under that name`);
}
