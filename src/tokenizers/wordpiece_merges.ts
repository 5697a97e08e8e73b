// Learn WordPiece pieces from word counts: the merge loop of Hugging Face's WordPieceTrainer (a
// BpeTrainer with continuing_subword_prefix "##", min_frequency 0, no alphabet limit), following
// its bookkeeping (a lazily refreshed queue, pair counts updated word by word) so that it picks the
// same merges. Only the ids that break ties between equal counts differ: upstream numbers the
// "##c" forms in hash-map order (huggingface/tokenizers#1794), so its result changes from run to
// run wherever a tie decides; here they are numbered in a fixed order.

export interface LearnWordPiecesOptions {
  /** Stop once this many pieces exist (the caller leaves room for its special tokens). */
  maxPieces: number;
  /** Marks a piece that continues a word (default "##", BERT's). */
  prefix?: string;
  /**
   * Orders the prefixed single characters ("##a", "##b", ...), whose ids break ties between
   * merges of equal count. Default: by code point, the order upstream already gives the alphabet,
   * so that a tie goes the same way whether it is between "a" and "b" or "##a" and "##b", and
   * nothing depends on the order the words come in. Tests pass shuffled orders to show which
   * results do not depend on it.
   */
  continuingOrder?: (a: string, b: string) => number;
}

export interface LearnedWordPieces {
  /** The alphabet by code point, then its prefixed forms, then one piece per new merge: id order. */
  pieces: string[];
  /**
   * How many leading pieces are single characters, prefixed or not. They are always all there,
   * even past `maxPieces`: no vocabulary smaller than this covers the corpus.
   */
  alphabetSize: number;
}

/**
 * Learn WordPiece pieces from `wordCounts` (pre-tokenized words and how often each occurs): start
 * from the characters, then repeatedly join the adjacent pair that occurs most often (weighted by
 * word count; equal counts go to the pair of smaller ids), until `maxPieces` pieces exist or no
 * pair is left.
 *
 * @example
 * learnWordPieces(new Map([["low", 3], ["lower", 1]]), { maxPieces: 11 }).pieces.slice(9) // ["lo", "low"]
 */
export function learnWordPieces(wordCounts: ReadonlyMap<string, number>, o: LearnWordPiecesOptions): LearnedWordPieces {
  const prefix = o.prefix ?? "##";
  const spellings = [...wordCounts.keys()].filter((w) => w.length > 0 && (wordCounts.get(w) ?? 0) > 0).sort();
  const vocab = initialVocab(spellings, prefix, o.continuingOrder ?? byCodePoint);
  const alphabetSize = vocab.pieces.length;
  const words = spellings.map((w) => [...w].map((c, i) => vocab.idOf(i === 0 ? c : prefix + c)));
  const counts = spellings.map((w) => wordCounts.get(w) ?? 0);
  runMerges(new MergeState(words, counts), vocab, prefix, o.maxPieces);
  return { pieces: vocab.pieces, alphabetSize };
}

/** Code point order; plain `sort()` compares UTF-16 units, which puts astral characters too early. */
function byCodePoint(a: string, b: string): number {
  const ca = [...a].map((c) => c.codePointAt(0) ?? 0);
  const cb = [...b].map((c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i] - cb[i];
  return ca.length - cb.length;
}

class Vocab {
  readonly pieces: string[] = [];
  private readonly ids = new Map<string, number>();

  /** The piece's id, a new one (the next) if it is not there yet. */
  idOf(piece: string): number {
    let id = this.ids.get(piece);
    if (id === undefined) {
      id = this.pieces.length;
      this.pieces.push(piece);
      this.ids.set(piece, id);
    }
    return id;
  }
}

function initialVocab(spellings: readonly string[], prefix: string, continuingOrder: (a: string, b: string) => number): Vocab {
  const alphabet = new Set<string>();
  const continuing = new Set<string>();
  for (const w of spellings) {
    let first = true;
    for (const c of w) {
      alphabet.add(c);
      if (!first) continuing.add(prefix + c);
      first = false;
    }
  }
  const vocab = new Vocab();
  for (const c of [...alphabet].sort(byCodePoint)) vocab.idOf(c);
  for (const c of [...continuing].sort(continuingOrder)) vocab.idOf(c);
  return vocab;
}

/** a + b, b's continuation prefix dropped ("##a" + "##b" -> "##ab"), as upstream builds it. */
function joinPieces(a: string, b: string, prefix: string): string {
  return a + (prefix && b.startsWith(prefix) ? b.slice(prefix.length) : b);
}

// Pair (a, b) as one number, a Map key; ids stay far below 2^26, and 2^52 is still exact.
const PAIR_STRIDE = 2 ** 26;

/**
 * A pair waiting in the queue: its count when queued, and the words it occurred in then. A pair is
 * queued once, when the corpus is counted or when a merge creates it. It never gains occurrences
 * later: that would take a second merge making an existing piece, say a + ##bc after ab + ##c,
 * and whichever of ab and ##bc came first would have consumed the other's ##b everywhere. So its
 * count only falls, and a stale entry is re-queued with the current count when it comes up, as
 * upstream does: the queue's top is always the pair of highest count.
 */
interface Candidate {
  a: number;
  b: number;
  count: number;
  words: number[];
}

/** Max-heap on count, then on the smaller (a, b): upstream's Merge ordering. */
class MergeQueue {
  private readonly heap: Candidate[] = [];

  push(c: Candidate): void {
    const h = this.heap;
    h.push(c);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!first(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  pop(): Candidate | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < h.length && first(h[l], h[best])) best = l;
      if (r < h.length && first(h[r], h[best])) best = r;
      if (best === i) break;
      [h[i], h[best]] = [h[best], h[i]];
      i = best;
    }
    return top;
  }
}

function first(x: Candidate, y: Candidate): boolean {
  if (x.count !== y.count) return x.count > y.count;
  return x.a !== y.a ? x.a < y.a : x.b < y.b;
}

/** The words as piece ids, and the weighted count of every adjacent pair in them. */
class MergeState {
  readonly pairCounts = new Map<number, number>();
  readonly queue = new MergeQueue();

  constructor(
    private readonly words: number[][],
    private readonly counts: readonly number[],
  ) {
    const seen = new Map<number, Candidate>();
    words.forEach((w, i) => {
      for (let j = 0; j + 1 < w.length; j++) this.add(w[j], w[j + 1], counts[i], i, seen);
    });
    this.enqueue(seen);
  }

  /** Replace (a, b) by `merged` in `wordIds`, and queue the pairs that gained occurrences. */
  merge(a: number, b: number, merged: number, wordIds: readonly number[]): void {
    const gained = new Map<number, Candidate>();
    for (const i of wordIds) {
      mergeWord(this.words[i], a, b, merged, (x, y, delta) => this.add(x, y, delta * this.counts[i], i, delta > 0 ? gained : undefined));
    }
    this.pairCounts.delete(a * PAIR_STRIDE + b);
    this.enqueue(gained);
  }

  private add(a: number, b: number, by: number, word: number, gained: Map<number, Candidate> | undefined): void {
    const key = a * PAIR_STRIDE + b;
    this.pairCounts.set(key, (this.pairCounts.get(key) ?? 0) + by);
    if (!gained) return;
    let c = gained.get(key);
    if (!c) gained.set(key, (c = { a, b, count: 0, words: [] }));
    if (c.words[c.words.length - 1] !== word) c.words.push(word);
  }

  private enqueue(gained: Map<number, Candidate>): void {
    for (const [key, c] of gained) {
      const count = this.pairCounts.get(key) ?? 0;
      if (count > 0) this.queue.push({ ...c, count });
    }
  }
}

/**
 * Upstream's Word::merge: left to right, each (a, b) becomes `merged`, reporting the pairs lost
 * and gained around it (not (a, b) itself: the caller drops that pair as a whole).
 */
function mergeWord(sym: number[], a: number, b: number, merged: number, change: (x: number, y: number, delta: number) => void): void {
  for (let i = 0; i + 1 < sym.length; i++) {
    if (sym[i] !== a || sym[i + 1] !== b) continue;
    if (i > 0) {
      change(sym[i - 1], a, -1);
      change(sym[i - 1], merged, 1);
    }
    sym.splice(i, 2, merged);
    if (i + 1 < sym.length) {
      change(b, sym[i + 1], -1);
      change(merged, sym[i + 1], 1);
    }
  }
}

function runMerges(state: MergeState, vocab: Vocab, prefix: string, maxPieces: number): void {
  while (vocab.pieces.length < maxPieces) {
    const top = state.queue.pop();
    if (!top) return;
    const count = state.pairCounts.get(top.a * PAIR_STRIDE + top.b) ?? 0;
    if (count !== top.count) {
      // Counts only fall once queued, so a pair whose count reached 0 is gone for good.
      if (count > 0) state.queue.push({ ...top, count });
      continue;
    }
    const merged = vocab.idOf(joinPieces(vocab.pieces[top.a], vocab.pieces[top.b], prefix));
    state.merge(top.a, top.b, merged, top.words);
  }
}
