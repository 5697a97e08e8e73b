import assert from "node:assert/strict";
import { test } from "node:test";
import { colorEnabled, style } from "./style.js";

const tty = { isTTY: true }, pipe = { isTTY: false };

test("style: colour on a terminal only, never with NO_COLOR; FORCE_COLOR forces it", () => {
  assert.equal(colorEnabled(tty, {}), true);
  assert.equal(colorEnabled(pipe, {}), false);
  assert.equal(colorEnabled(tty, { NO_COLOR: "1" }), false);
  assert.equal(colorEnabled(tty, { NO_COLOR: "" }), true, "an empty NO_COLOR counts as unset (no-color.org)");
  assert.equal(colorEnabled(tty, { TERM: "dumb" }), false);
  assert.equal(colorEnabled(pipe, { FORCE_COLOR: "1" }), true);
  assert.equal(colorEnabled(tty, { FORCE_COLOR: "0" }), false);
  assert.equal(colorEnabled(pipe, { FORCE_COLOR: "1", NO_COLOR: "1" }), false, "NO_COLOR wins");
});

test("style: escapes close themselves so styles nest; off means the text unchanged", () => {
  const on = style(tty, {}), off = style(pipe, {});
  assert.equal(on.red("x"), "\u001b[31mx\u001b[39m");
  assert.equal(on.bold(on.green("ok")), "\u001b[1m\u001b[32mok\u001b[39m\u001b[22m");
  assert.equal(off.red(off.bold("x")), "x");
  assert.equal(off.enabled, false);
});
