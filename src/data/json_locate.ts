import { WhetError } from "../core/errors.js";
/**
 * Where a JSON text goes wrong. V8's JSON.parse messages carry a position only for some errors
 * ("Unexpected token 'x', ... is not valid JSON" has none), so on failure this small scanner,
 * which follows RFC 8259's grammar, finds the first offending character for a file:line:column.
 */

export interface JsonSyntaxProblem {
  /** 0-based index into the text (UTF-16 code units). */
  offset: number;
  reason: string;
}

class Fail {
  constructor(readonly offset: number, readonly reason: string) {}
}

/** The first syntax error of `text`, or null when JSON.parse would accept it. */
export function locateJsonError(text: string): JsonSyntaxProblem | null {
  let i = 0;
  const n = text.length;
  const fail = (reason: string, at = i): never => { throw new Fail(at, reason); };
  const ws = () => { while (i < n && " \t\n\r".includes(text[i])) i++; };
  const show = () => (i >= n ? "end of line" : `character ${JSON.stringify(text[i])}`);

  const str = () => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c < 0x20) fail("control character inside a string (escape it)");
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail("bad \\u escape");
          i += 6;
        } else if (e !== undefined && "\"\\/bfnrt".includes(e)) i += 2;
        else fail(`bad escape "\\${e ?? ""}"`);
      } else i++;
    }
    fail("unterminated string");
  };

  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === "" || m[0] === "-") fail(`unexpected ${show()}`);
    i += m![0].length;
  };

  const value = (): void => {
    ws();
    if (i >= n) fail("unexpected end of line, expected a value");
    const c = text[i];
    if (c === "{") {
      i++; ws();
      if (text[i] === "}") { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== "\"") fail(text[i] === "}" ? "trailing comma before \"}\"" : `expected a double-quoted key, got ${show()}`);
        str(); ws();
        if (text[i] !== ":") fail(`expected ":" after a key, got ${show()}`);
        i++;
        value(); ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return; }
        fail(`expected "," or "}" after a value, got ${show()}`);
      }
    }
    if (c === "[") {
      i++; ws();
      if (text[i] === "]") { i++; return; }
      for (;;) {
        ws();
        if (text[i] === "]") fail("trailing comma before \"]\"");
        value(); ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return; }
        fail(`expected "," or "]" after a value, got ${show()}`);
      }
    }
    if (c === "\"") return str();
    if (c === "-" || (c >= "0" && c <= "9")) return num();
    for (const lit of ["true", "false", "null"]) {
      if (text.startsWith(lit, i)) { i += lit.length; return; }
    }
    fail(`unexpected ${show()}${c === "'" ? " (JSON strings need double quotes)" : ""}`);
  };

  try {
    value(); ws();
    if (i < n) fail(`unexpected ${show()} after the value (one JSON object per line)`);
    return null;
  } catch (e) {
    if (e instanceof Fail) return { offset: e.offset, reason: e.reason };
    throw e;
  }
}

/**
 * Parse one line of a JSON Lines file; a syntax error names file:line:column (columns in code
 * points, as editors show them) and the reason. `hint` is appended to that message.
 */
export function parseJsonLine(src: string, path: string, line: number, hint = ""): unknown {
  try {
    return JSON.parse(src);
  } catch (e) {
    const where = locateJsonError(src);
    const col = where ? Array.from(src.slice(0, where.offset)).length + 1 : 1;
    throw new WhetError(`${path}:${line}:${col}: malformed JSON: ${where?.reason ?? (e as Error).message}${hint}`);
  }
}
