/**
 * Reading users' text files with the encoding checked up front: a dataset that is silently
 * decoded with U+FFFD replacement characters trains a model on garbage, so invalid UTF-8 is an
 * error that says where (byte offset and line) and what to do about it.
 */
import { readFile } from "node:fs/promises";
import { WhetError } from "../core/errors.js";
import { assertRegularFile } from "../core/regular_file.js";

/** How a file's bytes become text. "latin1" is ISO-8859-1: every byte is one character. */
export type TextEncoding = "utf-8" | "latin1";

/**
 * The byte offset of the first invalid UTF-8 sequence, or -1 when the bytes are valid.
 * TextDecoder's fatal mode says only "invalid", never where, so the scan follows RFC 3629's
 * table (no overlong forms, no surrogates, nothing above U+10FFFF) as the decoder does.
 */
export function findInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) { i++; continue; }
    let need: number;
    let lo = 0x80, hi = 0xbf; // allowed range of the second byte
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return i;
      const c = bytes[i + k];
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** 1-based line number of a byte offset (counts "\n" bytes before it). */
function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

const hex = (bytes: Uint8Array, at: number, len: number) =>
  Array.from(bytes.subarray(at, Math.min(bytes.length, at + len)), (b) => b.toString(16).padStart(2, "0")).join(" ");

/**
 * Decode a file's bytes, refusing what would silently corrupt text: UTF-16 (its BOM), NUL bytes
 * (binary or BOM-less UTF-16) and invalid UTF-8. A UTF-8 BOM is removed.
 * `what` names the file in messages.
 */
export function decodeText(bytes: Uint8Array, what: string, encoding: TextEncoding = "utf-8"): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new WhetError(`Cannot read ${what}: it is UTF-16 (byte order mark ${hex(bytes, 0, 2)}); ` +
      `convert it to UTF-8 first (for example: iconv -f UTF-16 -t UTF-8)`);
  }
  if (encoding === "latin1") return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  if (encoding !== "utf-8") {
    throw new WhetError(`Cannot read ${what}: unknown encoding "${String(encoding)}" (expected "utf-8" or "latin1")`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new WhetError(`Cannot read ${what}: NUL byte at byte offset ${nul} (line ${lineOfByte(bytes, nul)}); ` +
      `this is not a UTF-8 text file (binary, or UTF-16 without a byte order mark?)`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const at = findInvalidUtf8(bytes);
    throw new WhetError(`Cannot read ${what}: invalid UTF-8 at byte offset ${at} (line ${lineOfByte(bytes, at)}, ` +
      `bytes ${hex(bytes, at, 4)}); if the file is Latin-1 pass encoding: "latin1", otherwise convert it to UTF-8`);
  }
  // TextDecoder strips a leading BOM itself (ignoreBOM defaults to false); this guards the rule.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Read and decode a whole text file (see decodeText). */
export async function readTextFile(path: string, encoding: TextEncoding = "utf-8"): Promise<string> {
  let bytes: Uint8Array;
  try {
    // A FIFO blocks the open forever and a device (/dev/zero) reads forever: refused first.
    assertRegularFile(path);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof WhetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new WhetError(code === "ENOENT" ? `Cannot read "${path}": no such file` :
      `Cannot read "${path}": ${(e as Error).message}`);
  }
  return decodeText(bytes, `"${path}"`, encoding);
}

/** Split text into lines, accepting "\n" and "\r\n" endings; a final line ending adds no line. */
export function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.endsWith("\r")) lines[i] = l.slice(0, -1);
  }
  return lines;
}
