/**
 * Label names a user gives (`--label-names a,b,c`, a file, or a list in the run config), and the
 * tag-name files that come beside token-classification data (`tags.txt`, `label_names.txt`): the
 * way `datasets` exports ner_tags as integers, whose names live in the dataset's features.
 *
 * @example
 * resolveLabelNames("neg,neu,pos", "train.csv");     // ["neg", "neu", "pos"]
 * resolveLabelNames("labels.txt", "train.csv");      // one name per line of labels.txt
 * tagNamesBeside("data/wnut/train.jsonl");           // data/wnut/tags.txt's lines, if it exists
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { WhetError } from "../core/errors.js";

const TAG_FILES = ["tags.txt", "label_names.txt", "label_names", "labels.txt"];

/** Names in a file: a JSON list, or one per line (blank lines ignored). */
export function readNamesFile(path: string): string[] {
  const text = readFileSync(path, "utf8");
  const names = text.trim().startsWith("[") ? parseList(text, path) : text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return checkNames(names, path);
}

function parseList(text: string, path: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new WhetError(`reading label names from ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new WhetError(`reading label names from ${path}: expected a JSON list of names`);
  return v.map(String);
}

function checkNames(names: string[], where: string): string[] {
  if (names.length === 0) throw new WhetError(`--label-names (${where}): no names given`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new WhetError(`--label-names (${where}): ${JSON.stringify(dup)} appears twice`);
  return names;
}

/** `--label-names`: a list, a comma list, or a file of names; undefined when not given. */
export function resolveLabelNames(given: string | readonly string[] | undefined): string[] | undefined {
  if (given === undefined) return undefined;
  if (Array.isArray(given)) return checkNames(given.map(String), "list");
  const s = given as string;
  if (existsSync(s) && statSync(s).isFile()) return readNamesFile(s);
  if (!s.includes(",")) {
    throw new WhetError(`--label-names ${s}: no such file, and not a comma-separated list of at least two names`);
  }
  return checkNames(s.split(",").map((n) => n.trim()).filter(Boolean), "comma list");
}

/** Tag names from a tags.txt / label_names file in the data file's folder, or undefined. */
export function tagNamesBeside(dataFile: string): { names: string[]; file: string } | undefined {
  for (const f of TAG_FILES) {
    const path = join(dirname(dataFile), f);
    if (existsSync(path) && statSync(path).isFile()) return { names: readNamesFile(path), file: path };
  }
  return undefined;
}
