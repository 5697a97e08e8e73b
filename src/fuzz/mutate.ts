// Seeded byte-level mutations, as AFL's havoc stage does them (flips, interesting values, inserts,
// deletes, duplicated blocks) plus text-aware ones (numbers replaced by edge values), so a
// parser meets both random damage and the values that break size arithmetic.
import type { Rng } from "../core/rng.js";

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x2c, 0x0a, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d];
const NUMBERS = ["-1", "0", "1e308", "-1e308", "NaN", "99999999999999999999", "4294967296", "1.5", "\"32\"", "null", "[]", "{}", "2147483648"];
const MAX_GROWTH = 4096;

/** One mutated copy of `input`: 1 to 8 stacked mutations chosen by `rng`. */
export function mutate(input: Uint8Array, rng: Rng): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  const rounds = 1 + rng.int(8);
  for (let r = 0; r < rounds; r++) b = mutateOnce(b, rng);
  return b;
}

const EDGE_VALUES: unknown[] = [null, -1, 0, 1.5, 1e308, -1e308, 2 ** 31, 2 ** 53, "", "x", "32", [], {}, true, [1, 2], { a: 1 }];

/**
 * A structure-aware mutation of a JSON document: one value somewhere in it is replaced by an
 * edge value or a value of another type, or removed. Byte mutations alone almost never get past
 * JSON.parse; this reaches the validation behind it. Returns undefined when `input` is not JSON.
 */
export function mutateJson(input: Uint8Array, rng: Rng): Uint8Array | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(input));
  } catch {
    return undefined;
  }
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown) => {
    if (slots.length > 20_000 || typeof v !== "object" || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      slots.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
      walk(x);
    }
  };
  walk(doc);
  for (let r = 1 + rng.int(3); r > 0 && slots.length; r--) {
    const [parent, key] = slots[rng.int(slots.length)];
    if (rng.int(6) === 0 && !Array.isArray(parent)) delete parent[key as string];
    else (parent as Record<string | number, unknown>)[key] = structuredClone(EDGE_VALUES[rng.int(EDGE_VALUES.length)]);
  }
  return new TextEncoder().encode(JSON.stringify(doc));
}

function mutateOnce(b: Uint8Array, rng: Rng): Uint8Array {
  const n = b.length;
  const at = n ? rng.int(n) : 0;
  switch (rng.int(8)) {
    case 0: // bit flip
      if (n) b[at] ^= 1 << rng.int(8);
      return b;
    case 1: // interesting byte
      if (n) b[at] = INTERESTING[rng.int(INTERESTING.length)];
      return b;
    case 2: { // insert random bytes
      const len = 1 + rng.int(16);
      const ins = Uint8Array.from({ length: len }, () => rng.int(256));
      return concat(b.subarray(0, at), ins, b.subarray(at));
    }
    case 3: { // delete a range
      const len = 1 + rng.int(Math.max(1, n >> 3));
      return concat(b.subarray(0, at), b.subarray(Math.min(n, at + len)));
    }
    case 4: { // duplicate a block (repeated keys, repeated records)
      const len = 1 + rng.int(Math.max(1, Math.min(n - at, 256)));
      const block = b.subarray(at, at + len);
      return b.length + block.length > input0Cap(b) ? b : concat(b.subarray(0, at + len), block, b.subarray(at + len));
    }
    case 5: // truncate
      return b.subarray(0, at);
    case 6: { // replace a run of digits with an edge value
      let i = at;
      while (i < n && !(b[i] >= 0x30 && b[i] <= 0x39)) i++;
      if (i >= n) return b;
      let j = i;
      while (j < n && b[j] >= 0x30 && b[j] <= 0x39) j++;
      return concat(b.subarray(0, i), new TextEncoder().encode(NUMBERS[rng.int(NUMBERS.length)]), b.subarray(j));
    }
    default: { // overwrite 4 bytes with a little-endian edge integer (binary headers)
      if (n < 4) return b;
      const v = [0, 0xffffffff, 0x7fffffff, 0x80000000, n, n * 2][rng.int(6)];
      const p = rng.int(n - 3);
      new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(p, v >>> 0, true);
      return b;
    }
  }
}

function input0Cap(b: Uint8Array): number {
  return b.length + MAX_GROWTH;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
