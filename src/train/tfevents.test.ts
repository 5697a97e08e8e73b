import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import protobuf from "protobufjs";
import { defaultLoggingDir, TensorBoardCallback, tensorboardTags } from "./tensorboard.js";
import { crc32c, EventFileWriter, maskedCrc32c } from "./tfevents.js";

// The messages as tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto
// declare them (the fields a scalar event uses), decoded by protobufjs: a reader independent of
// the hand-written encoder under test.
const root = protobuf.parse(`
syntax = "proto3";
package tensorflow;
message Summary {
  message Value { string node_name = 7; string tag = 1; oneof value { float simple_value = 2; bytes obsolete_old_style_histogram = 3; } }
  repeated Value value = 1;
}
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what { string file_version = 3; bytes graph_def = 4; Summary summary = 5; }
}`).root;
const Event = root.lookupType("tensorflow.Event");

interface Decoded { wallTime: number; step: number; fileVersion?: string; summary?: { value: { tag: string; simpleValue: number }[] } }

/** Read a TFRecord file record by record, checking both masked CRCs of each. */
function readEvents(path: string): Decoded[] {
  const buf = readFileSync(path), view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Decoded[] = [];
  for (let at = 0; at < buf.length;) {
    const len = Number(view.getBigUint64(at, true));
    assert.equal(view.getUint32(at + 8, true), maskedCrc32c(buf.subarray(at, at + 8)), `length CRC at byte ${at}`);
    const payload = buf.subarray(at + 12, at + 12 + len);
    assert.equal(view.getUint32(at + 12 + len, true), maskedCrc32c(payload), `data CRC at byte ${at}`);
    const msg = Event.toObject(Event.decode(payload), { longs: Number }) as Decoded;
    out.push({ ...msg, step: msg.step ?? 0 });
    at += 12 + len + 4;
  }
  return out;
}

test("CRC-32C: the standard check value and RFC 3720's test vectors", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa, "32 zero bytes");
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43, "32 0xff bytes");
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e, "0..31");
});

test("masked CRC of an empty payload matches TensorFlow's (crc 0 masked is 0xa282ead8)", () => {
  assert.equal(maskedCrc32c(new Uint8Array(0)), 0xa282ead8);
});

test("an event file holds the version record, then scalar summaries at their steps", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-tb-"));
  try {
    const w = new EventFileWriter(dir);
    w.addScalars(10, { "train/loss": 0.6931, "train/learning_rate": 2e-5 });
    w.addScalars(20, { "eval/accuracy": 0.875 });
    w.addScalars(30, {});
    w.close();
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0], /^events\.out\.tfevents\.\d{10}\.[^.]+.*\.\d+\.\d+$/);
    const ev = readEvents(join(dir, files[0]));
    assert.equal(ev.length, 3, "version + two summaries; an empty one writes nothing");
    assert.equal(ev[0].fileVersion, "brain.Event:2");
    assert.ok(Math.abs(ev[0].wallTime - Date.now() / 1000) < 60);
    assert.equal(ev[1].step, 10);
    assert.deepEqual(ev[1].summary!.value.map((v) => v.tag), ["train/loss", "train/learning_rate"]);
    assert.equal(ev[1].summary!.value[0].simpleValue, Math.fround(0.6931), "float32 simple_value");
    assert.equal(ev[2].step, 20);
    assert.equal(ev[2].summary!.value[0].simpleValue, 0.875);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the callback writes the Trainer's logs under transformers' tags at the global step", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-tb-"));
  try {
    const cb = new TensorBoardCallback(join(dir, "runs", "x"));
    cb.onTrainBegin();
    cb.onLog({ globalStep: 5 }, {}, { loss: 0.5, learning_rate: 1e-5, grad_norm: 2.5, epoch: 0.5 });
    cb.onLog({ globalStep: 10 }, {}, { eval_loss: 0.4, eval_f1: 0.8, epoch: 1 });
    const path = cb.path!;
    cb.onTrainEnd();
    const ev = readEvents(path);
    const tags = ev.slice(1).map((e) => Object.fromEntries(e.summary!.value.map((v) => [v.tag, v.simpleValue])));
    assert.deepEqual(Object.keys(tags[0]), ["train/loss", "train/learning_rate", "train/grad_norm", "train/epoch"]);
    assert.equal(tags[0]["train/grad_norm"], 2.5);
    assert.deepEqual(Object.keys(tags[1]), ["eval/loss", "eval/f1", "train/epoch"]);
    assert.deepEqual(ev.slice(1).map((e) => e.step), [5, 10]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tag names and the default logging_dir follow transformers", () => {
  assert.deepEqual(tensorboardTags({ step: 3, loss: 1, eval_loss: 2, test_acc: 3 }), { "train/loss": 1,
    "eval/loss": 2, "test/acc": 3 });
  assert.match(defaultLoggingDir("out", new Date(2024, 0, 5, 9, 7, 3)), /^out\/runs\/Jan05_09-07-03_.+$/);
});
