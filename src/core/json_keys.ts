// JSON.parse keeps the last of two equal keys without a word; in a config file that hides a
// mistake (two "num_labels", the second silently winning). This finds the first duplicate.

export interface DuplicateKey {
  key: string;
  /** Dotted path of the object holding it ("" for the top level). */
  path: string;
  /** 1-based line of the second occurrence. */
  line: number;
}

/**
 * The first key that appears twice in one object of `text`, or null. `text` must already be
 * valid JSON (call after JSON.parse succeeds).
 *
 * @example
 * findDuplicateKey('{"a": 1, "a": 2}'); // { key: "a", path: "", line: 1 }
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
  const stack: { keys: Set<string> | null; expectKey: boolean; name: string }[] = [];
  let line = 1;
  let lastKey = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x0a) line++;
    else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      const parent = stack.at(-1);
      const name = parent ? (parent.keys ? lastKey : "[]") : "";
      stack.push({ keys: ch === 0x7b ? new Set() : null, expectKey: ch === 0x7b, name });
    } else if (ch === 0x7d || ch === 0x5d) stack.pop();
    else if (ch === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top?.keys) top.expectKey = true;
    } else if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, j);
        const key = raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.keys.has(key)) return { key, path: stack.slice(1).map((s) => s.name).join("."), line };
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      i = j;
    }
  }
  return null;
}
