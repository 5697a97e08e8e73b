/**
 * A pretraining corpus: unlabelled documents from a text file (one document per line, blank
 * lines skipped) or from JSON Lines (one object per line with a text field).
 *
 * @example
 * const docs = await readCorpus("wiki.txt"); // ["first document", "second document", …]
 */
import { extname } from "node:path";
import { WhetError } from "../core/errors.js";
import { parseJsonLines } from "./json_lines.js";
import { readTextFile, splitLines } from "./text_file.js";

export interface ReadCorpusOptions {
  /** JSON Lines: the field holding the text (default "text"). */
  textField?: string;
}

export async function readCorpus(path: string, o: ReadCorpusOptions = {}): Promise<string[]> {
  const ext = extname(path).toLowerCase();
  const lines = splitLines(await readTextFile(path));
  if (ext === ".txt" || ext === ".text" || ext === "") return lines.map((l) => l.trim()).filter((l) => l.length > 0);
  if (ext !== ".jsonl" && ext !== ".ndjson") {
    throw new WhetError(`Cannot read the corpus "${path}": expected a .txt file (one document per line) or .jsonl (a "${o.textField ?? "text"}" field per line), got "${ext}"`);
  }
  const field = o.textField ?? "text";
  const docs: string[] = [];
  for (const { value, line } of parseJsonLines(lines.join("\n"), path)) {
    const text = value[field];
    if (typeof text !== "string") throw new WhetError(`${path}:${line}: expected an object with a string "${field}" field, got ${Object.keys(value).join(", ") || "(none)"}`);
    if (text.trim()) docs.push(text.trim());
  }
  return docs;
}
