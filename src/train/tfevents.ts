// TensorBoard event files, written without TensorFlow. The format, from TensorFlow's sources:
//  - TFRecord framing (tensorflow/core/lib/io/record_writer.cc): uint64 length (little-endian),
//    uint32 masked CRC32C of those 8 bytes, the payload, uint32 masked CRC32C of the payload;
//    masked(crc) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8.
//  - each payload an `Event` (tensorflow/core/util/event.proto): wall_time = 1 (double), step = 2
//    (int64), file_version = 3 (string, "brain.Event:2" first), summary = 5 (`Summary`).
//  - `Summary` (tensorflow/core/framework/summary.proto): repeated Value value = 1, each with
//    tag = 1 (string) and simple_value = 2 (float) — the scalar form TensorBoard has always read.
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    // Castagnoli polynomial, reflected.
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32C (Castagnoli) of bytes, as TFRecord uses it.
 *
 * @example
 * crc32c(new TextEncoder().encode("123456789")).toString(16); // "e3069283"
 */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC32C_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: a CRC stored beside data it covers must not look like data. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, its CRC, the payload, the payload's CRC. */
export function tfRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + payload.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(payload.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(payload, 12);
  view.setUint32(12 + payload.length, maskedCrc32c(payload), true);
  return out;
}

// ---- the few protobuf encodings an Event needs ----------------------------------------------------

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));
const utf8 = new TextEncoder();

function lengthDelimited(field: number, bytes: Uint8Array | number[]): number[] {
  return [...key(field, 2), ...varint(BigInt(bytes.length)), ...bytes];
}

function float64Field(field: number, v: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return [...key(field, 1), ...b];
}

function float32Field(field: number, v: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return [...key(field, 5), ...b];
}

/** An `Event` with a version string or scalar summary values, as protobuf bytes. */
export function encodeEvent(e: { wallTime: number; step?: number; fileVersion?: string; scalars?: Record<string,
  number> }): Uint8Array {
  const bytes = [...float64Field(1, e.wallTime)];
  if (e.step) bytes.push(...key(2, 0), ...varint(BigInt(Math.trunc(e.step))));
  if (e.fileVersion !== undefined) bytes.push(...lengthDelimited(3, utf8.encode(e.fileVersion)));
  if (e.scalars) {
    const values = Object.entries(e.scalars).flatMap(([tag, v]) => lengthDelimited(1, [...lengthDelimited(1,
      utf8.encode(tag)), ...float32Field(2, v)]));
    bytes.push(...lengthDelimited(5, values));
  }
  return Uint8Array.from(bytes);
}

let fileCounter = 0;

/**
 * Appends events to `<dir>/events.out.tfevents.<seconds>.<host>.<pid>.<n>` (the name
 * PyTorch's SummaryWriter gives, which TensorBoard's loader globs for). Every record is written
 * whole and flushed, so TensorBoard reading while training runs never sees half a record.
 *
 * @example
 * const w = new EventFileWriter("out/runs/first");
 * w.addScalars(10, { "train/loss": 0.69 });
 * w.close();
 */
export class EventFileWriter {
  readonly path: string;
  private fd: number | null;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    const now = Date.now() / 1000;
    this.path = join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.${fileCounter++}`);
    this.fd = openSync(this.path, "wx");
    this.write(encodeEvent({ wallTime: now, fileVersion: "brain.Event:2" }));
  }

  /** Scalars of one global step; non-finite values are written too (TensorBoard shows them). */
  addScalars(step: number, scalars: Record<string, number>): void {
    if (Object.keys(scalars).length === 0) return;
    this.write(encodeEvent({ wallTime: Date.now() / 1000, step, scalars }));
  }

  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }

  private write(payload: Uint8Array): void {
    if (this.fd === null) throw new Error(`event file ${this.path} is closed`);
    writeSync(this.fd, tfRecord(payload));
  }
}
