// `whet translate` as a user runs it, against transformers 4.30's outputs on fixtures/marian.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("./main.js", import.meta.url));
const fx = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const marian = join(fx, "marian");
const expected = JSON.parse(readFileSync(join(marian, "expected.json"), "utf8"));

function whet(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [main, ...args], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** What a line must hold: the decoded text and the ids after the start token through </s>. */
function wanted(run: { sequences: number[][]; decoded: string[] }, i: number) {
  const seq = run.sequences[i].slice(1);
  const end = seq.indexOf(0);
  return { text: expected.texts[i], translation: run.decoded[i], ids: end < 0 ? seq : seq.slice(0, end + 1) };
}

test("translate: greedy and beam search from a text file, line for line as transformers", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-translate-"));
  writeFileSync(join(dir, "in.txt"), expected.texts.join("\n") + "\n");
  const byName = Object.fromEntries(expected.generate.map((g: { name: string }) => [g.name, g]));
  const runs: [string, string[]][] = [
    ["greedy", ["--num-beams", "1"]],
    ["beam4", ["--num-beams", "4"]],
    ["beam4_lp0.6_early", ["--num-beams", "4", "--length-penalty", "0.6", "--early-stopping", "true"]],
  ];
  for (const [name, flags] of runs) {
    const r = whet(
      [
        "translate",
        "--model",
        marian,
        "--input",
        "in.txt",
        "--output",
        `${name}.jsonl`,
        "--max-new-tokens",
        "12",
        "--batch-size",
        "3",
        ...flags,
      ],
      dir,
    );
    assert.equal(r.code, 0, r.err);
    const lines = readFileSync(join(dir, `${name}.jsonl`), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines,
      expected.texts.map((_: string, i: number) => wanted(byName[name], i)),
      name,
    );
    assert.equal(JSON.parse(r.out.trim()).texts, 4);
  }
});

test("translate: JSON Lines input with --text-field; generation_config.json's defaults", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-translate-"));
  writeFileSync(join(dir, "in.jsonl"), expected.texts.map((t: string) => JSON.stringify({ id: 1, src: t })).join("\n"));
  const r = whet(
    ["translate", "--model", marian, "--input", "in.jsonl", "--output", "out.jsonl", "--text-field", "src"],
    dir,
  );
  assert.equal(r.code, 0, r.err);
  const lines = readFileSync(join(dir, "out.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  // num_beams 4 and max_length 64 from generation_config.json: every output ends in </s> within 63 tokens.
  for (const l of lines) assert.ok(l.ids.length <= 63 && l.ids.at(-1) === 0, JSON.stringify(l.ids));
});

test("translate: a checkpoint that is not Marian, a bad flag, a missing field: clear errors, nothing written", () => {
  const dir = mkdtempSync(join(tmpdir(), "whet-translate-"));
  writeFileSync(join(dir, "in.txt"), "hello\n");
  const bert = whet(
    ["translate", "--model", join(fx, "hf", "bert-seq"), "--input", "in.txt", "--output", "out.jsonl"],
    dir,
  );
  assert.equal(bert.code, 1);
  assert.match(bert.err, /is not a MarianMT translation model: its config.json has model_type "bert"/);
  const flag = whet(
    ["translate", "--model", marian, "--input", "in.txt", "--output", "out.jsonl", "--early-stopping", "soon"],
    dir,
  );
  assert.match(flag.err, /--early-stopping must be true, false or never, got "soon"/);
  const beams = whet(
    ["translate", "--model", marian, "--input", "in.txt", "--output", "out.jsonl", "--num-beams", "0"],
    dir,
  );
  assert.match(beams.err, /--num-beams must be a positive integer, got "0"/);
  writeFileSync(join(dir, "in.jsonl"), '{"text": "a"}\n{"sentence": "b"}\n');
  const field = whet(["translate", "--model", marian, "--input", "in.jsonl", "--output", "out.jsonl"], dir);
  assert.match(field.err, /in.jsonl:2: expected an object with a string "text" field/);
  assert.equal(existsSync(join(dir, "out.jsonl")), false);
});
