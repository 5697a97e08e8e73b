/**
 * Does a version satisfy an npm `engines` range? Just enough of npm's semver for the ranges
 * package.json files carry (`>=20.12`, `^20.12.0 || >=22`, `~20.12`, `20.x`), without a
 * dependency for one check in `whet doctor`. Pre-release tags are ignored.
 *
 * @example
 * satisfies("20.20.2", ">=20.12"); // true
 * satisfies("18.19.0", ">=20.12"); // false
 */

type V = [number, number, number];

const cmp = (a: V, b: V) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** "20.12" → [20, 12, 0] plus how many parts were given ("x" and "*" count as missing). */
function parse(v: string): { v: V; parts: number } | null {
  const m = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+].*)?$/.exec(v.trim());
  if (!m) return null;
  const nums = [m[1], m[2], m[3]];
  let parts = 0;
  while (parts < 3 && nums[parts] !== undefined && /^\d+$/.test(nums[parts]!)) parts++;
  return { v: [0, 1, 2].map((i) => (i < parts ? Number(nums[i]) : 0)) as V, parts };
}

/** The comparator as a [lower, upper) test; null when it cannot be read. */
function comparator(c: string): ((v: V) => boolean) | null {
  const m = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(c);
  if (!m) return null;
  const op = m[1] ?? "", p = parse(m[2]);
  if (!p) return null;
  const { v, parts } = p;
  // The exclusive upper end of a partial version: 20 → 21.0.0, 20.12 → 20.13.0.
  const next = (n: number): V => (n === 0 ? [Infinity, 0, 0] : n === 1 ? [v[0] + 1, 0, 0] : n === 2 ? [v[0], v[1] + 1, 0] : [v[0], v[1], v[2] + 1]);
  switch (op) {
    case ">=": return (x) => cmp(x, v) >= 0;
    case ">": return (x) => cmp(x, next(parts)) >= 0;
    case "<": return (x) => cmp(x, v) < 0;
    case "<=": return (x) => cmp(x, next(parts)) < 0;
    case "^": {
      // ^1.2.3 := >=1.2.3 <2.0.0; ^0.2.3 := <0.3.0; ^0.0.3 := <0.0.4 (the first non-zero part is fixed).
      const fixed = v[0] > 0 || parts === 1 ? 1 : v[1] > 0 || parts === 2 ? 2 : 3;
      return (x) => cmp(x, v) >= 0 && cmp(x, next(fixed)) < 0;
    }
    case "~": return (x) => cmp(x, v) >= 0 && cmp(x, next(Math.min(Math.max(parts, 1), 2))) < 0;
    default: return (x) => cmp(x, v) >= 0 && cmp(x, next(parts)) < 0; // "20.12" or "=20.12.1": that version or its patches
  }
}

/** true/false, or null when the range uses syntax this reader does not know (hyphen ranges…). */
export function satisfies(version: string, range: string): boolean | null {
  const p = parse(version);
  if (!p) return null;
  const alternatives = range.split("||").map((s) => s.trim());
  let anyTrue = false;
  for (const alt of alternatives) {
    if (alt === "" || alt === "*") return true;
    // ">= 20.12" is allowed by npm: join an operator to its version before splitting on spaces.
    const comps = alt.replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1").split(/\s+/).map(comparator);
    if (comps.some((c) => c === null)) return null;
    if (comps.every((c) => c!(p.v))) anyTrue = true;
  }
  return anyTrue;
}
