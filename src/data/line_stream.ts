import { createReadStream } from "node:fs";
import { WhetError } from "../core/errors.js";

/** One line of a text file, without its line ending, and its 1-based number. */
export interface TextLine {
  text: string;
  line: number;
}

/**
 * The decoded chunks of a UTF-8 file as they are read (bounded memory); invalid UTF-8 is an error
 * naming the line it is on, since silently replaced characters would be predicted on as text.
 * A byte-order mark at the start is dropped.
 */
export async function* streamUtf8(path: string, chunkBytes = 1 << 16): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let lines = 0; // newlines decoded so far, for the error's line number
  const decode = (chunk?: Buffer): string => {
    try {
      const s = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
      for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) lines++;
      return s;
    } catch {
      const loose = chunk ? new TextDecoder().decode(chunk) : "";
      const before = loose.slice(0, Math.max(0, loose.indexOf("\uFFFD"))).split("\n").length - 1;
      throw new WhetError(`${path}:${lines + 1 + before}: not valid UTF-8 (input files must be UTF-8)`);
    }
  };
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  try {
    for await (const chunk of stream) {
      const s = decode(chunk as Buffer);
      if (s) yield s;
    }
  } catch (e) {
    if (e instanceof WhetError) throw e;
    throw new WhetError(`reading ${path}: ${(e as Error).message}`);
  } finally {
    stream.destroy();
  }
  const last = decode();
  if (last) yield last;
}

/**
 * The lines of a UTF-8 text file as they are read: "\n" or "\r\n" endings, a final line without
 * an ending included, no empty line after a final newline.
 *
 * @example
 * for await (const { text, line } of streamLines("texts.txt")) console.log(line, text);
 */
export async function* streamLines(path: string, chunkBytes?: number): AsyncGenerator<TextLine> {
  let rest = "";
  let line = 0;
  for await (const chunk of streamUtf8(path, chunkBytes)) {
    // A long line arrives in many chunks: join them without re-splitting what came before.
    if (!chunk.includes("\n")) {
      rest += chunk;
      continue;
    }
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const p of parts) yield { text: p.endsWith("\r") ? p.slice(0, -1) : p, line: ++line };
  }
  if (rest !== "") yield { text: rest.endsWith("\r") ? rest.slice(0, -1) : rest, line: ++line };
}
