import protobuf from "protobufjs/minimal.js";
import { ONNX_DTYPE, type DType } from "../core/dtype.js";
import type { NDArray } from "../core/ndarray.js";
import type { Dim } from "../core/shape.js";
import type { OnnxAttr } from "../graph/op.js";

/**
 * Encoder for the subset of onnx.proto (proto2) that whet writes: field numbers follow
 * onnx/onnx.proto. protobufjs supplies the wire encoding; the message layout is ours.
 */
const { Writer } = protobuf;
type W = protobuf.Writer;

const VARINT = 0, LEN = 2, I32 = 5;
const tag = (field: number, wire: number) => (field << 3) | wire;

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain?: string;
  attrs?: Record<string, OnnxAttr>;
}

export interface OnnxValueInfo {
  name: string;
  dtype: DType;
  shape: readonly Dim[];
}

export interface RawInitializer {
  name: string;
  /** TensorProto.DataType number (INT8 = 3, UINT8 = 2, …). */
  dataType: number;
  dims: readonly number[];
  bytes: Uint8Array;
}

export interface OnnxModel {
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: { name: string; value: NDArray }[];
  /** Initializers of ONNX types whet's DType lacks (int8 weights of a quantized model), as raw little-endian bytes. */
  rawInitializers?: RawInitializer[];
  opsets: { domain: string; version: number }[];
  irVersion: number;
  producer: string;
  graphName: string;
  metadata?: Record<string, string>;
}

function sub(w: W, field: number, body: (w: W) => void): void {
  w.uint32(tag(field, LEN)).fork();
  body(w);
  w.ldelim();
}

function tensorProto(w: W, name: string, v: NDArray): void {
  for (const d of v.shape) w.uint32(tag(1, VARINT)).int64(d);
  w.uint32(tag(2, VARINT)).int32(ONNX_DTYPE[v.dtype]);
  w.uint32(tag(8, LEN)).string(name);
  const d = v.data;
  w.uint32(tag(9, LEN)).bytes(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)); // raw_data, little-endian
}

function attribute(w: W, name: string, a: OnnxAttr): void {
  w.uint32(tag(1, LEN)).string(name);
  if ("f" in a) {
    w.uint32(tag(2, I32)).float(a.f);
    w.uint32(tag(20, VARINT)).int32(1);
  } else if ("i" in a) {
    w.uint32(tag(3, VARINT)).int64(a.i);
    w.uint32(tag(20, VARINT)).int32(2);
  } else if ("s" in a) {
    w.uint32(tag(4, LEN)).bytes(new TextEncoder().encode(a.s));
    w.uint32(tag(20, VARINT)).int32(3);
  } else if ("t" in a) {
    sub(w, 5, (w) => tensorProto(w, "", a.t));
    w.uint32(tag(20, VARINT)).int32(4);
  } else if ("floats" in a) {
    for (const x of a.floats) w.uint32(tag(7, I32)).float(x);
    w.uint32(tag(20, VARINT)).int32(6);
  } else {
    for (const x of a.ints) w.uint32(tag(8, VARINT)).int64(x);
    w.uint32(tag(20, VARINT)).int32(7);
  }
}

function valueInfo(w: W, v: OnnxValueInfo): void {
  w.uint32(tag(1, LEN)).string(v.name);
  sub(w, 2, (w) => // TypeProto
    sub(w, 1, (w) => { // TypeProto.Tensor
      w.uint32(tag(1, VARINT)).int32(ONNX_DTYPE[v.dtype]);
      sub(w, 2, (w) => { // TensorShapeProto
        for (const d of v.shape) {
          sub(w, 1, (w) => {
            if (typeof d === "number") w.uint32(tag(1, VARINT)).int64(d);
            else w.uint32(tag(2, LEN)).string(d);
          });
        }
      });
    }));
}

function node(w: W, n: OnnxNode): void {
  for (const i of n.inputs) w.uint32(tag(1, LEN)).string(i);
  for (const o of n.outputs) w.uint32(tag(2, LEN)).string(o);
  w.uint32(tag(3, LEN)).string(n.name);
  w.uint32(tag(4, LEN)).string(n.opType);
  for (const [k, a] of Object.entries(n.attrs ?? {})) sub(w, 5, (w) => attribute(w, k, a));
  if (n.domain) w.uint32(tag(7, LEN)).string(n.domain);
}

/** Serialise a model to ModelProto bytes, ready for InferenceSession.create or a .onnx file. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = Writer.create();
  w.uint32(tag(1, VARINT)).int64(m.irVersion);
  w.uint32(tag(2, LEN)).string(m.producer);
  sub(w, 7, (w) => {
    for (const n of m.nodes) sub(w, 1, (w) => node(w, n));
    w.uint32(tag(2, LEN)).string(m.graphName);
    for (const i of m.initializers) sub(w, 5, (w) => tensorProto(w, i.name, i.value));
    for (const r of m.rawInitializers ?? []) {
      sub(w, 5, (w) => {
        for (const d of r.dims) w.uint32(tag(1, VARINT)).int64(d);
        w.uint32(tag(2, VARINT)).int32(r.dataType);
        w.uint32(tag(8, LEN)).string(r.name);
        w.uint32(tag(9, LEN)).bytes(r.bytes);
      });
    }
    for (const v of m.inputs) sub(w, 11, (w) => valueInfo(w, v));
    for (const v of m.outputs) sub(w, 12, (w) => valueInfo(w, v));
  });
  for (const o of m.opsets) {
    sub(w, 8, (w) => {
      if (o.domain) w.uint32(tag(1, LEN)).string(o.domain);
      w.uint32(tag(2, VARINT)).int64(o.version);
    });
  }
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    sub(w, 14, (w) => {
      w.uint32(tag(1, LEN)).string(k);
      w.uint32(tag(2, LEN)).string(v);
    });
  }
  return w.finish();
}
