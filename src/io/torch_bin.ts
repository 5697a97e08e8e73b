/**
 * Reads `pytorch_model.bin` (torch.save's zip format, torch ≥ 1.6) WITHOUT executing pickle
 * code: a restricted unpickler, like `torch.load(weights_only=True)`, that knows only the opcodes
 * torch.save emits for a state dict and only an allow-list of globals (tensor rebuilders, the
 * typed storages, OrderedDict). Anything else — `os.system`, a custom class, an unknown opcode —
 * is a WhetError, never a call. Storages come from `<archive>/data/<key>` records; contiguous
 * tensors are views into the file buffer, strided views are copied out.
 *
 * @example
 *   const { tensors } = await readTorchBinFile("pytorch_model.bin");
 *   const w = toFloat32(tensors.get("bert.pooler.dense.weight")!);
 */
import { WhetError } from "../core/errors.js";
import { readWholeFile } from "./files.js";
import { itemSize, type RawTensor, type StDType } from "./raw_tensor.js";
import { ZipArchive } from "./zip.js";
import { appendAll } from "../core/iter.js";

export interface TorchBinContents {
  /** In the state dict's order. */
  tensors: Map<string, RawTensor>;
}

const CONVERT_HINT =
  "convert it to safetensors with Python: " +
  `python -c "import torch; from safetensors.torch import save_file; ` +
  `sd = torch.load('pytorch_model.bin', map_location='cpu', weights_only=True); ` +
  `save_file({k: v.contiguous() for k, v in sd.items()}, 'model.safetensors', metadata={'format': 'pt'})"`;

const STORAGES: Record<string, StDType> = {
  FloatStorage: "F32", DoubleStorage: "F64", HalfStorage: "F16", BFloat16Storage: "BF16",
  LongStorage: "I64", IntStorage: "I32", ShortStorage: "I16", CharStorage: "I8",
  ByteStorage: "U8", BoolStorage: "BOOL",
};
const CALLABLES = new Set([
  "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
  "collections.OrderedDict",
]);

// Python values as the unpickler builds them. Lists are JS arrays; None is null.
class Tuple { constructor(readonly items: Py[]) {} }
class Dict { readonly map = new Map<Key, Py>(); }
class Global { constructor(readonly path: string) {} }
class Storage { constructor(readonly dtype: StDType, readonly key: string, readonly bytes: Uint8Array) {} }
class Tensor { constructor(readonly raw: RawTensor) {} }
type Key = string | number | bigint | boolean | null;
type Py = Key | Py[] | Tuple | Dict | Global | Storage | Tensor;

/** Reads a torch.save zip archive holding a flat state dict {name: tensor}. */
export function readTorchBin(bytes: Uint8Array, source = "<buffer>"): TorchBinContents {
  const fail = (msg: string): never => {
    throw new WhetError(`Cannot read PyTorch checkpoint ${source}: ${msg}`);
  };
  if (bytes.byteLength >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    fail(`this is the legacy (torch < 1.6) format, which only a full pickle can read; re-save it with a newer torch or ${CONVERT_HINT}`);
  }
  if (bytes.byteLength < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) fail(`not a torch.save zip archive (it does not start with "PK"); ${CONVERT_HINT}`);
  const zip = new ZipArchive(bytes, source);
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) fail(`expected one <archive>/data.pkl entry, found ${pkls.length ? pkls.join(", ") : "none"} (a TorchScript or other archive?)`);
  const prefix = pkls[0].slice(0, -"data.pkl".length);
  const order = zip.entries.get(`${prefix}byteorder`);
  if (order) {
    const text = new TextDecoder().decode(zip.read(order.name));
    if (text !== "little") fail(`the archive stores ${JSON.stringify(text)}-endian storages; only little-endian is supported`);
  }

  // Budget for copies of strided views: all of them together may not exceed the file's size.
  let copyBudget = bytes.byteLength;
  const storages = new Map<string, Storage>();
  const loadStorage = (pid: Py): Storage => {
    const items = pid instanceof Tuple ? pid.items : [];
    const [tag, type, key, , numel] = items;
    if (items.length !== 5 || tag !== "storage" || !(type instanceof Global) || typeof key !== "string" || typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0) {
      return fail(`unexpected persistent id ${describe(pid)}; expected ('storage', torch.XStorage, key, location, numel)`);
    }
    const dtype = STORAGES[type.path.replace(/^torch\./, "")];
    if (!dtype || !type.path.startsWith("torch.")) return fail(`storage "${key}" has the unsupported type ${type.path}`);
    const cached = storages.get(key);
    if (cached && cached.dtype !== dtype) fail(`storage "${key}" is read as both ${cached.dtype} and ${dtype}`);
    if (cached) return cached;
    const entry = `${prefix}data/${key}`;
    if (!zip.entries.has(entry)) fail(`storage "${key}" has no record "${entry}" in the archive`);
    const data = zip.read(entry);
    const want = numel * itemSize(dtype);
    if (data.byteLength < want) fail(`storage "${key}" (${type.path}) needs ${numel} elements = ${want} bytes, but "${entry}" holds ${data.byteLength}`);
    const s = new Storage(dtype, key, data.subarray(0, want));
    storages.set(key, s);
    return s;
  };

  const rebuild = (args: Py[], what: string): Tensor => {
    const [storage, offset, size, stride] = args;
    const ints = (v: Py) => v instanceof Tuple && v.items.every((x) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0);
    if (!(storage instanceof Storage) || typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0 || !ints(size) || !ints(stride)) {
      return fail(`${what} got unexpected arguments ${describe(new Tuple(args))}`);
    }
    const shape = (size as Tuple).items as number[];
    const strides = (stride as Tuple).items as number[];
    if (shape.length !== strides.length) fail(`${what}: size [${shape.join(", ")}] and stride [${strides.join(", ")}] differ in rank`);
    const isz = itemSize(storage.dtype);
    const numel = storage.bytes.byteLength / isz;
    const count = shape.reduce((a, b) => a * b, 1);
    let last = offset; // the largest element index the view touches
    let contiguous = true;
    for (let i = shape.length - 1, expect = 1; i >= 0; i--) {
      last += (shape[i] - 1) * strides[i];
      if (shape[i] !== 1 && strides[i] !== expect) contiguous = false;
      expect *= shape[i];
    }
    if (count === 0) return new Tensor({ dtype: storage.dtype, shape, bytes: new Uint8Array(0) });
    if (!Number.isSafeInteger(last) || last >= numel) {
      fail(`${what}: a view of size [${shape.join(", ")}], stride [${strides.join(", ")}], offset ${offset} reaches element ${last} of storage "${storage.key}", which has ${numel}`);
    }
    if (contiguous) return new Tensor({ dtype: storage.dtype, shape, bytes: storage.bytes.subarray(offset * isz, (offset + count) * isz) });
    copyBudget -= count * isz;
    if (copyBudget < 0) fail(`${what}: copying strided views would take more memory than the file's ${bytes.byteLength} bytes (stride-0 expanded tensors?)`);
    const out = new Uint8Array(count * isz);
    const index = new Array<number>(shape.length).fill(0);
    for (let n = 0, src = offset; n < count; n++) {
      out.set(storage.bytes.subarray(src * isz, (src + 1) * isz), n * isz);
      for (let d = shape.length - 1; d >= 0; d--) { // odometer over the view's indices
        if (++index[d] < shape[d]) { src += strides[d]; break; }
        src -= (shape[d] - 1) * strides[d];
        index[d] = 0;
      }
    }
    return new Tensor({ dtype: storage.dtype, shape, bytes: out });
  };

  const call = (fn: Py, args: Py): Py => {
    if (!(fn instanceof Global) || !(args instanceof Tuple)) return fail(`REDUCE on ${describe(fn)} with ${describe(args)}`);
    switch (fn.path) {
      case "collections.OrderedDict":
        if (args.items.length) fail(`OrderedDict called with arguments ${describe(args)}`);
        return new Dict();
      case "torch._utils._rebuild_tensor":
      case "torch._utils._rebuild_tensor_v2":
        return rebuild(args.items, fn.path);
      case "torch._utils._rebuild_parameter": {
        const data = args.items[0];
        if (!(data instanceof Tensor)) fail(`_rebuild_parameter of ${describe(data)}`);
        return data;
      }
    }
    return fail(`calling ${fn.path} is not allowed`);
  };

  const root = unpickle(zip.read(pkls[0]), loadStorage, call, fail);
  if (!(root instanceof Dict)) fail(`expected a state dict at the top level, found ${describe(root)}`);
  const tensors = new Map<string, RawTensor>();
  for (const [k, v] of (root as Dict).map) {
    if (typeof k !== "string") fail(`state dict key ${describe(k)} is not a string`);
    if (!(v instanceof Tensor)) fail(`state dict entry "${k}" is ${describe(v)}, not a tensor (a training checkpoint rather than weights?)`);
    tensors.set(k as string, (v as Tensor).raw);
  }
  return { tensors };
}

/** Reads and validates a whole pytorch_model.bin. */
export async function readTorchBinFile(path: string): Promise<TorchBinContents> {
  return readTorchBin(await readWholeFile(path), path);
}

function describe(v: Py, depth = 0): string {
  if (v === null) return "None";
  if (v instanceof Global) return `global ${v.path}`;
  if (v instanceof Tensor) return `a ${v.raw.dtype} tensor [${v.raw.shape.join(", ")}]`;
  if (v instanceof Storage) return `storage "${v.key}"`;
  if (v instanceof Dict) return `a dict of ${v.map.size} entries`;
  // Bounded depth: a hostile pickle can nest tuples thousands deep.
  if (v instanceof Tuple) return depth > 3 ? "(...)" : `(${v.items.slice(0, 6).map((x) => describe(x, depth + 1)).join(", ")}${v.items.length > 6 ? ", ..." : ""})`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * The pickle virtual machine, restricted: only state-dict opcodes, globals resolved to inert
 * `Global` markers, REDUCE delegated to `call` (which allows only the allow-list).
 */
function unpickle(p: Uint8Array, persistent: (pid: Py) => Py, call: (fn: Py, args: Py) => Py, fail: (m: string) => never): Py {
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const text = new TextDecoder("utf-8", { fatal: true });
  const stack: Py[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Py>();
  let pos = 0;
  const need = (n: number): number => {
    if (n < 0 || pos + n > p.byteLength) fail(`data.pkl ends unexpectedly at byte ${pos} (truncated, or no STOP)`);
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): Py => (stack.length > (marks.at(-1) ?? 0) ? stack.pop()! : fail(`data.pkl pops an empty stack at byte ${pos}`));
  const top = (): Py => (stack.length > (marks.at(-1) ?? 0) ? stack[stack.length - 1] : fail(`data.pkl reads an empty stack at byte ${pos}`));
  const popMark = (): Py[] => {
    const m = marks.pop();
    if (m === undefined) fail(`data.pkl has no MARK for the opcode at byte ${pos - 1}`);
    return stack.splice(m!);
  };
  const str = (n: number): string => {
    const at = need(n);
    try {
      return text.decode(p.subarray(at, at + n));
    } catch {
      return fail(`invalid UTF-8 string at byte ${at}`);
    }
  };
  const line = (): string => {
    const end = p.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 256) fail(`GLOBAL at byte ${pos} has no short newline-terminated name`);
    return str(end - pos + 1).slice(0, -1);
  };
  const global = (module: string, name: string): Global => {
    const path = `${module}.${name}`;
    if (CALLABLES.has(path) || (module === "torch" && name in STORAGES)) return new Global(path);
    return fail(`data.pkl refers to ${path}, which is not allowed (only tensors of a state dict are); it was not executed`);
  };
  const setItems = (d: Py, kv: Py[]) => {
    if (!(d instanceof Dict)) fail(`SETITEM(S) on ${describe(d)}`);
    if (kv.length % 2) fail(`SETITEMS with an odd number of items`);
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i];
      if (k !== null && typeof k === "object") fail(`dict key ${describe(k)} is not supported`);
      (d as Dict).map.set(k as Key, kv[i + 1]);
    }
  };

  for (;;) {
    const at = need(1);
    const op = p[at];
    switch (op) {
      case 0x80: need(1); break; // PROTO
      case 0x95: need(8); break; // FRAME: framing only matters to streaming readers
      case 0x2e: if (stack.length !== 1 || marks.length) fail(`STOP with ${stack.length} values on the stack`); return stack[0]; // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x7d: stack.push(new Dict()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(new Tuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new Tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push(new Tuple([pop(), b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push(new Tuple([pop(), b, c])); break; } // TUPLE3
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(p[need(1)]); break; // BININT1
      case 0x4d: stack.push(dv.getUint16(need(2), true)); break; // BININT2
      case 0x4a: stack.push(dv.getInt32(need(4), true)); break; // BININT
      case 0x8a: { // LONG1: little-endian two's complement of n bytes
        const n = p[need(1)];
        const b = p.subarray(need(n), pos);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: stack.push(dv.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x58: stack.push(str(dv.getUint32(need(4), true))); break; // BINUNICODE
      case 0x8c: stack.push(str(p[need(1)])); break; // SHORT_BINUNICODE
      case 0x8d: { // BINUNICODE8
        const n = dv.getBigUint64(need(8), true);
        stack.push(str(n > BigInt(p.byteLength) ? -1 : Number(n)));
        break;
      }
      case 0x63: { const m = line(); stack.push(global(m, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const m = pop();
        if (typeof m !== "string" || typeof name !== "string") fail(`STACK_GLOBAL on ${describe(m)}, ${describe(name)}`);
        stack.push(global(m as string, name as string));
        break;
      }
      case 0x71: memo.set(p[need(1)], top()); break; // BINPUT
      case 0x72: memo.set(dv.getUint32(need(4), true), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? p[need(1)] : dv.getUint32(need(4), true);
        if (!memo.has(i)) fail(`memo entry ${i} is read before it is written`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) fail(`APPEND to ${describe(l)}`); (l as Py[]).push(v); break; } // APPEND
      case 0x65: { const vs = popMark(); const l = top(); if (!Array.isArray(l)) fail(`APPENDS to ${describe(l)}`); appendAll(l as Py[], vs); break; } // APPENDS
      case 0x62: { // BUILD: only the attribute dict of an OrderedDict (state_dict's _metadata), ignored
        const state = pop();
        const obj = top();
        if (!(obj instanceof Dict) || !(state === null || state instanceof Dict)) fail(`BUILD of ${describe(obj)} with ${describe(state)} is not allowed`);
        break;
      }
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      default:
        return fail(`data.pkl uses opcode 0x${op.toString(16).padStart(2, "0")} at byte ${at}, which a state dict never needs; nothing was executed`);
    }
  }
}
