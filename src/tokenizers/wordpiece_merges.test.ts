import assert from "node:assert/strict";
import { test } from "node:test";
import { learnWordPieces } from "./wordpiece_merges.js";

// "low low low lower newest newest widest", counted.
const TINY = new Map([["low", 3], ["lower", 1], ["newest", 2], ["widest", 1]]);
const TINY_ALPHABET = ["d", "e", "i", "l", "n", "o", "r", "s", "t", "w", "##d", "##e", "##i", "##o", "##r", "##s", "##t", "##w"];

test("learnWordPieces: the alphabet by code point, then the merges a hand count gives", () => {
  const { pieces, alphabetSize } = learnWordPieces(TINY, { maxPieces: 1000 });
  assert.equal(alphabetSize, 18);
  assert.deepEqual(pieces.slice(0, 18), TINY_ALPHABET);
  // Ids: the 18 above, then each merge's piece in turn (lo = 18, low = 19, ...).
  // 1. l+##o and ##o+##w both occur 4 times (low x3, lower); equal counts go to the smaller ids: l (3) < ##o (13).
  // 2. lo+##w: 4.
  // 3. ##e+##s and ##s+##t both 3 (newest x2, widest); ##e (11) < ##s (15). Upstream's coin flip, #1794.
  // 4. ##es+##t: 3.
  // 5. Count 2: n+##e, ##e+##w, ##w+##est (all newest); n is an alphabet id, the smallest.
  // 6. ##w+##est (17, 21) against ne+##w (22, 17): 17 < 22.
  // 7. ne+##west: 2.
  // 8-12. Count 1, smallest ids first: w+##i (9, 12), ##d+##est (10, 21), ##e+##r (11, 14),
  //       then low+##er (19, 27) before wi+##dest (25, 26).
  assert.deepEqual(pieces.slice(18), ["lo", "low", "##es", "##est", "ne", "##west", "newest", "wi", "##dest", "##er", "lower", "widest"]);
});

test("learnWordPieces: stops at maxPieces, but always keeps the whole alphabet", () => {
  assert.deepEqual(learnWordPieces(TINY, { maxPieces: 20 }).pieces.slice(18), ["lo", "low"]);
  const small = learnWordPieces(TINY, { maxPieces: 5 });
  assert.deepEqual(small.pieces, TINY_ALPHABET);
  assert.equal(small.alphabetSize, 18);
});

test("learnWordPieces: the order of the word counts does not matter", () => {
  const reversed = new Map([...TINY].reverse());
  assert.deepEqual(learnWordPieces(reversed, { maxPieces: 1000 }), learnWordPieces(TINY, { maxPieces: 1000 }));
});

test("learnWordPieces: the prefixed characters' order decides ties (what goes wrong upstream)", () => {
  const reversed = learnWordPieces(TINY, { maxPieces: 1000, continuingOrder: (a, b) => (a < b ? 1 : a > b ? -1 : 0) });
  // ##s now has a smaller id than ##e, so ##s+##t wins the tie at step 3.
  assert.deepEqual(reversed.pieces.slice(18, 21), ["lo", "low", "##st"]);
});

test("learnWordPieces: code point order puts astral characters after the BMP", () => {
  // "😀" is U+1F600 but its first UTF-16 unit (0xD83D) sorts before "ｚ" (U+FF5A).
  const { pieces } = learnWordPieces(new Map([["😀ｚ", 1], ["ｚ😀", 1]]), { maxPieces: 4 });
  assert.deepEqual(pieces, ["ｚ", "😀", "##ｚ", "##😀"]);
});

/** Greedy BPE the slow and obvious way: recount every pair before each merge. */
function naivePieces(counts: Map<string, number>, maxPieces: number): string[] {
  const chars = (w: string): string[] => [...w];
  const pieces = [...new Set([...counts.keys()].flatMap(chars))].sort();
  pieces.push(...[...new Set([...counts.keys()].flatMap((w) => chars(w).slice(1)))].sort().map((c) => "##" + c));
  const id = (p: string): number => pieces.indexOf(p);
  const words = [...counts].map(([w, n]) => ({ sym: chars(w).map((c, i) => (i ? "##" + c : c)), n }));
  while (pieces.length < maxPieces) {
    const pairs = new Map<string, { a: string; b: string; n: number }>();
    for (const { sym, n } of words) {
      for (let i = 0; i + 1 < sym.length; i++) {
        const k = `${sym[i]} ${sym[i + 1]}`;
        const p = pairs.get(k) ?? { a: sym[i], b: sym[i + 1], n: 0 };
        p.n += n;
        pairs.set(k, p);
      }
    }
    const best = [...pairs.values()].sort((x, y) => y.n - x.n || id(x.a) - id(y.a) || id(x.b) - id(y.b))[0];
    if (!best) break;
    const merged = best.a + best.b.replace(/^##/, "");
    if (!pieces.includes(merged)) pieces.push(merged);
    for (const w of words) {
      for (let i = 0; i + 1 < w.sym.length; i++) if (w.sym[i] === best.a && w.sym[i + 1] === best.b) w.sym.splice(i, 2, merged);
    }
  }
  return pieces;
}

test("learnWordPieces: the same pieces as recounting everything before each merge", () => {
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let corpus = 0; corpus < 200; corpus++) {
    const counts = new Map<string, number>();
    for (let w = 2 + random(8); w > 0; w--) {
      const word = Array.from({ length: 1 + random(7) }, () => "abcd"[random(4)]).join("");
      counts.set(word, 1 + random(6));
    }
    const expected = naivePieces(counts, 60);
    const { pieces } = learnWordPieces(counts, { maxPieces: 60 });
    assert.deepEqual(pieces, expected, JSON.stringify([...counts]));
    assert.equal(new Set(pieces).size, pieces.length, "no piece twice");
  }
});

test("learnWordPieces: an empty or all-zero corpus gives no pieces", () => {
  assert.deepEqual(learnWordPieces(new Map(), { maxPieces: 10 }), { pieces: [], alphabetSize: 0 });
  assert.deepEqual(learnWordPieces(new Map([["ab", 0]]), { maxPieces: 10 }), { pieces: [], alphabetSize: 0 });
});
