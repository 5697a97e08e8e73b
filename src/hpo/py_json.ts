/**
 * JSON text as Python's `json.dumps` writes it (", " and ": " separators, floats in `repr` form,
 * NaN and Infinity bare), so that the values whet stores in an Optuna database are byte for byte
 * what Optuna itself would have stored. Python reads JSON.stringify's output too; this keeps diffs
 * and optuna-dashboard views identical whichever side wrote a row.
 */
export function pyDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pyFloatRepr(value, Number.isInteger(value));
  if (typeof value === "string") return pyString(value);
  if (Array.isArray(value)) return `[${value.map(pyDumps).join(", ")}]`;
  if (value instanceof PyFloat) return pyFloatRepr(value.value, false);
  if (typeof value === "object") {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyString(k)}: ${pyDumps(v)}`);
    return `{${parts.join(", ")}}`;
  }
  throw new TypeError(`cannot write a ${typeof value} as JSON`);
}

/** A number Python holds as a float even when it is whole (`0.0`, not `0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Marks a whole number as a Python float for {@link pyDumps}. */
export const pyFloat = (x: number): PyFloat => new PyFloat(x);

/** Python's `repr(float)` (or `repr(int)` when `asInt`): shortest round-trip digits, exponent below 1e-4 or from ' +
  '1e16. */
export function pyFloatRepr(x: number, asInt = false): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (asInt && Number.isSafeInteger(x)) return String(x);
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const sign = mant.startsWith("-") ? "-" : "";
  const digits = mant.replace("-", "").replace(".", "");
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac === "" ? "0" : frac}`;
}

/** ensure_ascii: every non-ASCII UTF-16 unit as \uXXXX, as Python writes it. */
function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const SPECIALS: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
const MARK = "\u0000whet-special:";

/** Python's `json.loads`: standard JSON plus the bare NaN, Infinity and -Infinity that Python writes. */
export function pyLoads(text: string): unknown {
  let special = false;
  const patched = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (tok) => {
    if (tok.startsWith("\"")) return tok;
    special = true;
    return JSON.stringify(MARK + tok);
  });
  if (!special) return JSON.parse(text);
  return JSON.parse(patched, (_k, v: unknown) =>
    typeof v === "string" && v.startsWith(MARK) ? SPECIALS[v.slice(MARK.length)] : v);
}
