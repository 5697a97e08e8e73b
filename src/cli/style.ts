/**
 * Terminal colours without a dependency. Colour only reaches a terminal: piped or redirected
 * output stays plain text, as do logs and CI output. `NO_COLOR` (https://no-color.org) turns
 * colour off, `FORCE_COLOR` turns it on where a tool captures a TTY's output (and lets tests
 * check the escapes); `TERM=dumb` terminals get none.
 *
 * @example
 * const s = style(process.stderr);
 * console.error(`${s.red("✗")} Node 18.0.0 is older than >=20.12`);
 */

type Env = Record<string, string | undefined>;

export interface Style {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

/** Whether to colour what goes to `stream`. */
export function colorEnabled(stream: { isTTY?: boolean }, env: Env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

// SGR codes with their own reset (22 for bold/dim, 39 for colours), so styles nest.
const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

export function style(stream: { isTTY?: boolean } = process.stdout, env: Env = process.env): Style {
  const on = colorEnabled(stream, env);
  return {
    enabled: on,
    bold: on ? sgr(1, 22) : plain,
    dim: on ? sgr(2, 22) : plain,
    red: on ? sgr(31, 39) : plain,
    green: on ? sgr(32, 39) : plain,
    yellow: on ? sgr(33, 39) : plain,
    cyan: on ? sgr(36, 39) : plain,
  };
}
