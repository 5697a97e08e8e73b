/**
 * A read-only zip parser, enough for torch.save archives: the central directory (zip64 too),
 * STORED entries as views into the buffer (torch writes every record uncompressed, 64-byte
 * aligned) and DEFLATE entries through node:zlib, for archives someone re-zipped. Every offset
 * and length is checked against the buffer before use; CRCs are not checked (torch's reader
 * does not either, and that would mean reading every byte of a multi-GB checkpoint).
 * Spec: PKWARE APPNOTE.TXT, sections 4.3 (layout) and 4.5.3 (zip64 extra field).
 */
import { inflateRawSync } from "node:zlib";
import { WhetError } from "../core/errors.js";

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dv: DataView;

  /** Parses the central directory; entry data is read lazily by `read`. */
  constructor(private readonly bytes: Uint8Array, readonly source = "<buffer>") {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = bytes.byteLength;
    // The end record sits in the last 22 + 65,535 (comment) bytes; scan backwards for it.
    let eocd = -1;
    for (let p = len - 22; p >= Math.max(0, len - 22 - 0xffff); p--) {
      if (this.dv.getUint32(p, true) === EOCD && p + 22 + this.dv.getUint16(p + 20, true) === len) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) this.fail(`no end-of-central-directory record: not a zip archive, or truncated`);
    if (this.dv.getUint16(eocd + 4, true) !== 0 || this.dv.getUint16(eocd + 6, true) !== 0) this.fail(`multi-disk archives are not supported`);
    let count = this.dv.getUint16(eocd + 10, true);
    let cdSize = this.dv.getUint32(eocd + 12, true);
    let cdOffset = this.dv.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      // zip64: a locator just before the end record points at the zip64 end record.
      const loc = eocd - 20;
      if (loc < 0 || this.dv.getUint32(loc, true) !== ZIP64_LOCATOR) this.fail(`zip64 sizes without a zip64 locator`);
      const rec = this.u64(loc + 8, "zip64 end record offset");
      this.need(rec, 56, "zip64 end record");
      if (this.dv.getUint32(rec, true) !== ZIP64_EOCD) this.fail(`no zip64 end record at byte ${rec}`);
      count = this.u64(rec + 32, "entry count");
      cdSize = this.u64(rec + 40, "central directory size");
      cdOffset = this.u64(rec + 48, "central directory offset");
    }
    this.need(cdOffset, cdSize, "central directory");
    const end = cdOffset + cdSize;
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > end) this.fail(`central directory entry ${i} of ${count} runs past the directory's ${cdSize} bytes`);
      if (this.dv.getUint32(p, true) !== CENTRAL) this.fail(`bad signature for central directory entry ${i} at byte ${p}`);
      const flags = this.dv.getUint16(p + 8, true);
      const method = this.dv.getUint16(p + 10, true);
      let compressedSize = this.dv.getUint32(p + 20, true);
      let size = this.dv.getUint32(p + 24, true);
      const nameLen = this.dv.getUint16(p + 28, true);
      const extraLen = this.dv.getUint16(p + 30, true);
      const commentLen = this.dv.getUint16(p + 32, true);
      let localHeaderOffset = this.dv.getUint32(p + 42, true);
      const next = p + 46 + nameLen + extraLen + commentLen;
      if (next > end) this.fail(`central directory entry ${i} runs past the directory`);
      const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
      // zip64 extra field: the 64-bit values of whichever fields hold 0xFFFFFFFF, in this order.
      for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
        const id = this.dv.getUint16(x, true);
        const sz = this.dv.getUint16(x + 2, true);
        if (x + 4 + sz > p + 46 + nameLen + extraLen) this.fail(`entry "${name}": extra field runs past its ${extraLen} bytes`);
        if (id === 0x0001) {
          let q = x + 4;
          const take = (what: string): number => {
            if (q + 8 > x + 4 + sz) this.fail(`entry "${name}": zip64 extra field too short for the ${what}`);
            const v = this.u64(q, `${what} of "${name}"`);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = take("size");
          if (compressedSize === 0xffffffff) compressedSize = take("compressed size");
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take("local header offset");
        }
        x += 4 + sz;
      }
      if (flags & 1) this.fail(`entry "${name}" is encrypted`);
      if (this.entries.has(name)) this.fail(`entry "${name}" appears twice`);
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      p = next;
    }
  }

  /** The entry's bytes: a view for stored entries, a new buffer for deflated ones. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) this.fail(`no entry "${name}"`);
    const entry = e as ZipEntry;
    const h = entry.localHeaderOffset;
    this.need(h, 30, `local header of "${name}"`);
    if (this.dv.getUint32(h, true) !== LOCAL) this.fail(`bad local header signature for "${name}" at byte ${h}`);
    const start = h + 30 + this.dv.getUint16(h + 26, true) + this.dv.getUint16(h + 28, true);
    this.need(start, entry.compressedSize, `data of "${name}"`);
    const data = this.bytes.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) {
      if (entry.size !== entry.compressedSize) this.fail(`stored entry "${name}" claims ${entry.size} bytes but holds ${entry.compressedSize}`);
      return data;
    }
    if (entry.method !== 8) this.fail(`entry "${name}" uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
    // Deflate expands at most ~1032:1; a larger claim is a lie meant to make us allocate.
    if (entry.size > entry.compressedSize * 1032 + 1024) this.fail(`entry "${name}" claims ${entry.size} bytes from ${entry.compressedSize} compressed`);
    let out: Buffer;
    try {
      out = inflateRawSync(data, { maxOutputLength: Math.max(1, entry.size) });
    } catch (err) {
      this.fail(`entry "${name}" does not inflate to its ${entry.size} bytes (${(err as Error).message})`);
    }
    if (out!.byteLength !== entry.size) this.fail(`entry "${name}" inflates to ${out!.byteLength} bytes, not the ${entry.size} its header claims`);
    return new Uint8Array(out!.buffer, out!.byteOffset, out!.byteLength);
  }

  private u64(at: number, what: string): number {
    this.need(at, 8, what);
    const v = this.dv.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is beyond any real file`);
    return Number(v);
  }

  private need(at: number, n: number, what: string): void {
    if (at < 0 || n < 0 || at + n > this.bytes.byteLength) this.fail(`${what} at bytes [${at}, ${at + n}) lies outside the ${this.bytes.byteLength}-byte file`);
  }

  private fail(msg: string): never {
    throw new WhetError(`Cannot read zip archive ${this.source}: ${msg}`);
  }
}
