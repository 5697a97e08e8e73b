/**
 * Token classification (NER) files: CoNLL-style `token<TAB>tag` lines with a blank line between
 * sentences — also space-separated columns (CoNLL-2003), WikiANN's `en:token` prefix, and
 * `-DOCSTART-` lines — or JSON Lines with `tokens` and `ner_tags` arrays (the Hugging Face
 * datasets layout). Tags that break IOB2 (an I- without a B- before it) are counted, not fatal:
 * several public corpora have a few, and the model still trains.
 *
 * @example
 * const { sentences, tagSet, iob2 } = await readConll("train.conll");
 * // sentences[0] = { tokens: ["EU", "rejects"], tags: ["B-ORG", "O"], line: 1 }
 */
import { extname } from "node:path";
import { WhetError } from "../core/errors.js";
import { namingFlags } from "../core/option_names.js";
import { compareCodePoints } from "./labels.js";
import { parseJsonLine } from "./json_locate.js";
import type { SkippedRows } from "./read.js";
import { readTextFile, splitLines, type TextEncoding } from "./text_file.js";

export interface TokenRow {
  tokens: string[];
  tags: string[];
  /** 1-based line of the sentence's first token (CoNLL: token i is on line + i). */
  line: number;
}

export interface Iob2Check {
  /** I-X tags not preceded by B-X or I-X. */
  violations: number;
  examples: { line: number; position: number; tag: string; previous: string }[];
  /** Tags that are neither "O" nor B-/I-: another scheme (BIOES's S-/E-, bare types)? */
  otherTags: string[];
}

export interface TokenTable {
  path: string;
  format: "conll" | "jsonl";
  sentences: TokenRow[];
  /** sorted(set(tags)), as transformers' run_ner builds its label list. */
  tagSet: string[];
  iob2: Iob2Check;
  skipped: SkippedRows;
  /** The language prefix removed from every token ("en:" in WikiANN), if any. */
  strippedPrefix: string | null;
}

export interface ReadConllOptions {
  /** Default: "jsonl" for .jsonl/.ndjson/.json files, "conll" otherwise. */
  format?: "conll" | "jsonl";
  encoding?: TextEncoding;
  /** CoNLL column of the token (default 0) and of the tag (default -1: the last). */
  tokenColumn?: number;
  tagColumn?: number;
  /** Strip a WikiANN-style "xx:" prefix from tokens; "auto" (default) strips it when every token has the same one. */
  languagePrefix?: boolean | "auto";
  /** JSON Lines field names (default "tokens" and "ner_tags"). */
  tokensField?: string;
  tagsField?: string;
  /** Names of integer tags in JSON Lines (the datasets ClassLabel names), id → name. */
  tagNames?: readonly string[];
  /** Stop at the first bad sentence instead of skipping it. */
  strict?: boolean;
}

export async function readConll(path: string, options: ReadConllOptions = {}): Promise<TokenTable> {
  const text = await readTextFile(path, options.encoding ?? "utf-8");
  return parseConll(text, path, options);
}

/** Parse decoded text; `path` only names it in messages. */
export function parseConll(text: string, path: string, options: ReadConllOptions = {}): TokenTable {
  const ext = extname(path).toLowerCase();
  const format = options.format ?? ([".jsonl", ".ndjson", ".json"].includes(ext) ? "jsonl" : "conll");
  const skipped: SkippedRows = { count: 0, byReason: {}, examples: [] };
  const skip = (line: number, reason: string, message?: string) => {
    if (options.strict) throw new WhetError(`${message ?? `${path}:${line}: ${reason}`} (strict mode stops at bad sentences)`);
    skipped.count++;
    skipped.byReason[reason] = (skipped.byReason[reason] ?? 0) + 1;
    if (skipped.examples.length < 20) skipped.examples.push({ line, reason });
  };
  let sentences: TokenRow[];
  let strippedPrefix: string | null = null;
  if (format === "jsonl") sentences = parseJsonl(text, path, options, skip);
  else ({ sentences, strippedPrefix } = parseColumns(text, path, options, skip));
  const tags = new Set<string>();
  for (const s of sentences) for (const t of s.tags) tags.add(t);
  return {
    path, format, sentences, tagSet: [...tags].sort(compareCodePoints), iob2: checkIob2(sentences, format === "conll"),
    skipped, strippedPrefix,
  };
}

const PREFIX = /^([a-z]{2,3}(?:-[a-z]+)?):./;
const isBlank = (line: string) => line.trim() === ""; // trim() also removes U+FEFF (WNUT-17 dev ends with one)

/** More malformed lines than this share is a problem of the file (not CoNLL, a wrong column), not of rows. */
const MAX_MALFORMED_SHARE = 0.5;

type Skip = (line: number, reason: string, message: string) => void;

function parseColumns(text: string, path: string, options: ReadConllOptions, skip: Skip): { sentences: TokenRow[]; strippedPrefix: string | null } {
  const lines = splitLines(text);
  const fields: (string[] | null)[] = lines.map((l) => {
    if (isBlank(l) || l.startsWith("-DOCSTART-")) return null; // sentence boundary
    return l.includes("\t") ? l.split("\t") : l.trim().split(/\s+/);
  });
  const tokenCol = options.tokenColumn ?? 0;
  const tagCol = options.tagColumn ?? -1;
  const prefix = languagePrefix(fields, (f) => pick(f, tokenCol), path, options);
  const need = Math.max(tokenCol, tagCol < 0 ? -tagCol - 1 : tagCol) + 1;

  // One bad-row policy (as the table reader): a malformed line spoils its sentence, which is
  // skipped and counted by reason (fatal in strict mode); mostly malformed lines stop the file.
  const sentences: TokenRow[] = [];
  let current: TokenRow | null = null, spoiled = false, bad = 0, total = 0, first = "";
  fields.forEach((f, k) => {
    if (f === null) { current = null; spoiled = false; return; }
    const line = k + 1;
    total++;
    const fault = lineFault(f, lines[k], { path, line, need, prefix, token: pick(f, tokenCol), tag: pick(f, tagCol) });
    if (fault) {
      bad++;
      first ||= fault.message;
      if (options.strict) throw new WhetError(`${fault.message} (strict mode stops at bad sentences)`);
      if (current !== null && !spoiled) sentences.pop(); // the sentence so far goes with its bad line
      if (!spoiled) skip(line, fault.reason, fault.message);
      spoiled = true;
      current = null;
      return;
    }
    if (spoiled) return;
    let token = pick(f, tokenCol)!;
    if (prefix !== null) token = token.slice(prefix.length);
    if (current === null) sentences.push((current = { tokens: [], tags: [], line }));
    (current as TokenRow).tokens.push(token);
    (current as TokenRow).tags.push(pick(f, tagCol)!.trim());
  });
  if (bad > 0 && bad > MAX_MALFORMED_SHARE * total) {
    throw new WhetError(`${first}; ${bad} of ${total} token lines are malformed: is "${path}" CoNLL (token<TAB>tag per line)?`);
  }
  return { sentences, strippedPrefix: prefix };
}

const pick = (f: string[], col: number): string | undefined => f[col < 0 ? f.length + col : col];

/** The "xx:" prefix every token carries (WikiANN), or null; see ReadConllOptions.languagePrefix. */
function languagePrefix(fields: (string[] | null)[], token: (f: string[]) => string | undefined, path: string,
  options: ReadConllOptions): string | null {
  if (options.languagePrefix === false) return null;
  const first = fields.find((f) => f !== null);
  const m = first ? PREFIX.exec(token(first) ?? "") : null;
  const candidate = m ? `${m[1]}:` : null;
  if (candidate && (options.languagePrefix === true ||
    fields.every((f) => f === null || (token(f) ?? "").startsWith(candidate)))) return candidate;
  if (options.languagePrefix === true) throw new WhetError(`Cannot strip a language prefix in "${path}": the first token has none`);
  return null;
}

interface LineAt { path: string; line: number; need: number; prefix: string | null; token?: string; tag?: string }

/** What is wrong with one token line, or null. */
function lineFault(f: string[], src: string, at: LineAt): { reason: string; message: string } | null {
  const where = `${at.path}:${at.line}`;
  if (f.length < 2 || f.length < at.need) {
    return { reason: "wrong number of columns", message: `${where}: expected "token<TAB>tag" ` +
      `(${at.need > 2 ? `${at.need} columns` : "2 columns"}), found ${f.length}: ${JSON.stringify(src.slice(0, 60))}` };
  }
  if (at.prefix !== null && !at.token!.startsWith(at.prefix)) {
    return { reason: "token without the language prefix",
      message: `${where}: token ${JSON.stringify(at.token!.slice(0, 60))} lacks the prefix "${at.prefix}"` };
  }
  const token = at.prefix !== null ? at.token!.slice(at.prefix.length) : at.token!;
  if (token === "" || at.tag!.trim() === "") {
    const what = token === "" ? "token" : "tag";
    return { reason: `empty ${what}`, message: `${where}: empty ${what} in ${JSON.stringify(src.slice(0, 60))}` };
  }
  return null;
}

function parseJsonl(text: string, path: string, options: ReadConllOptions, skip: (line: number, reason: string) => void): TokenRow[] {
  const sentences: TokenRow[] = [];
  const lines = text.split("\n");
  let bad = 0, total = 0, first = "";
  for (let k = 0; k < lines.length; k++) {
    const src = lines[k].endsWith("\r") ? lines[k].slice(0, -1) : lines[k];
    if (src.trim() === "") continue;
    total++;
    try {
      const row = sentenceFromJsonLine(src, path, k + 1, options);
      if (row) sentences.push(row);
      else skip(k + 1, "empty sentence");
    } catch (e) {
      // The same policy as the table reader: a malformed line is a bad row, skipped and counted
      // (the message itself in strict mode); most lines malformed is a problem of the file.
      if (!(e instanceof WhetError) || options.strict) throw e;
      bad++;
      first ||= e.message;
      skip(k + 1, "malformed line");
    }
  }
  if (bad > 0 && bad > total / 2) throw new WhetError(`${first}; ${bad} of ${total} lines are malformed`);
  return sentences;
}

/** One JSON Lines sentence; null for an empty one; throws a WhetError naming file:line for a malformed one. */
function sentenceFromJsonLine(src: string, path: string, line: number, options: ReadConllOptions): TokenRow | null {
  const tokensField = options.tokensField ?? "tokens";
  const tagsField = options.tagsField ?? "ner_tags";
  const names = options.tagNames;
  const obj = parseJsonLine(src, path, line);
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new WhetError(`${path}:${line}: expected a JSON object per line`);
  const rec = obj as Record<string, unknown>;
  const tokens = rec[tokensField];
  const raw = rec[tagsField];
  if (!Array.isArray(tokens) || !Array.isArray(raw)) {
    throw new WhetError(`${path}:${line}: expected arrays "${tokensField}" and "${tagsField}" ` +
      `(fields found: ${Object.keys(rec).map((c) => JSON.stringify(c)).join(", ")})` +
      (namingFlags() ? `; rename the file's fields to "tokens" and "ner_tags"` : "; set tokensField/tagsField"));
  }
  if (!tokens.every((t) => typeof t === "string")) throw new WhetError(`${path}:${line}: "${tokensField}" must hold strings`);
  if (tokens.length !== raw.length) {
    throw new WhetError(`${path}:${line}: ${tokens.length} tokens but ${raw.length} tags`);
  }
  if (tokens.length === 0) return null;
  const tags = raw.map((t, i) => {
    if (typeof t === "string") return t;
    if (typeof t === "number" && Number.isInteger(t)) {
      if (!names) return String(t);
      if (t < 0 || t >= names.length) throw new WhetError(`${path}:${line}: tag id ${t} at position ${i} is outside the ${names.length} tag names (ids 0..${names.length - 1})`);
      return names[t];
    }
    throw new WhetError(`${path}:${line}: tag at position ${i} must be a string or an integer id, got ${JSON.stringify(t)}`);
  });
  return { tokens: tokens as string[], tags, line };
}

/**
 * Count IOB2 violations: an I-X must follow B-X or I-X. `tokenLines`: each token is on its own
 * line (CoNLL), so an example's line is the token's own.
 */
export function checkIob2(sentences: readonly TokenRow[], tokenLines = true): Iob2Check {
  const check: Iob2Check = { violations: 0, examples: [], otherTags: [] };
  const other = new Set<string>();
  for (const s of sentences) {
    let prev = "O";
    s.tags.forEach((tag, i) => {
      if (tag.startsWith("I-")) {
        const type = tag.slice(2);
        if (prev !== `B-${type}` && prev !== `I-${type}`) {
          check.violations++;
          if (check.examples.length < 10) {
            check.examples.push({ line: tokenLines ? s.line + i : s.line, position: i, tag, previous: i === 0 ? "(sentence start)" : prev });
          }
        }
      } else if (tag !== "O" && !tag.startsWith("B-")) other.add(tag);
      prev = tag;
    });
  }
  check.otherTags = [...other].sort(compareCodePoints);
  return check;
}
