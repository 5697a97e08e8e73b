// The README's "Use it from TypeScript" program, type-checked against the built package's
// declarations and run as a user runs it: in a fresh folder where `import … from "whetml"`
// resolves through package.json's exports, on the project's tiny fixture model. A change to the
// API that breaks the printed program breaks this test. The program's file names are provided
// here: models/tiny-bert (the fixture model, which carries its own labels), train.csv, test.csv.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const repo = fileURLToPath(new URL("../", import.meta.url));
const fixture = join(repo, "fixtures", "trajectories", "bert-seq");

/** The first ```ts block under the heading `heading` (any level) of a Markdown file. */
function codeBlockUnder(markdown: string, heading: string, file: string): string {
  const lines = markdown.split("\n");
  const at = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, "").trim() === heading);
  assert.ok(at >= 0, `${file} has no section "${heading}"`);
  const start = lines.findIndex((l, i) => i > at && l.trim() === "```ts");
  const nextHeading = lines.findIndex((l, i) => i > at && /^#{1,6} /.test(l));
  assert.ok(start > 0 && (nextHeading < 0 || start < nextHeading), `${file}: the section "${heading}" has no \`\`\`ts block`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === "```");
  return lines.slice(start + 1, end).join("\n") + "\n";
}

/** Code without its // comments, for comparing translations of one program. */
const withoutComments = (code: string) => code.split("\n").map((l) => l.replace(/(^|\s)\/\/.*$/, "").trimEnd()).filter(Boolean).join("\n");

function typeCheck(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(repo, "node_modules", "@types")],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    return `${where ? `line ${where.line + 1}, column ${where.character + 1}: ` : ""}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

test("README: the \"Use it from TypeScript\" program type-checks against the package and runs", () => {
  const code = codeBlockUnder(readFileSync(join(repo, "README.md"), "utf8"), "Use it from TypeScript", "README.md");
  const zh = codeBlockUnder(readFileSync(join(repo, "README.zh-CN.md"), "utf8"), "在 TypeScript 中使用", "README.zh-CN.md");
  assert.equal(withoutComments(zh), withoutComments(code), "README.zh-CN.md shows the same program (comments aside)");
  assert.match(code, /from "whetml"/, "the program imports the package by its name");

  const dir = mkdtempSync(join(tmpdir(), "whet-readme-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "readme-example", private: true, type: "module" }));
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(repo, join(dir, "node_modules", "whetml"), "dir");
    mkdirSync(join(dir, "models"));
    cpSync(join(fixture, "init"), join(dir, "models", "tiny-bert"), { recursive: true });
    cpSync(join(fixture, "train.csv"), join(dir, "train.csv"));
    cpSync(join(fixture, "eval.csv"), join(dir, "test.csv"));
    writeFileSync(join(dir, "example.ts"), code);

    const errors = typeCheck(join(dir, "example.ts"));
    assert.deepEqual(errors, [], `the README program does not type-check:\n${errors.join("\n")}`);

    const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(join(dir, "example.mjs"), js.outputText);
    const run = spawnSync(process.execPath, ["example.mjs"], { cwd: dir, encoding: "utf8", timeout: 300_000 });
    assert.equal(run.status, 0, `the README program failed:\n${run.stderr}\n${run.stdout}`);
    assert.match(run.stdout, /^16 steps, training loss \d+\.\d{4}$/m, run.stdout);
    assert.match(run.stdout, /^validation accuracy (0|1)\.\d{3}$/m);
    assert.match(run.stdout, /test_loss \d+\.\d{4}/);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) {
      assert.ok(existsSync(join(dir, "models", "tiny-bert-tuned", f)), `saveModel wrote ${f}`);
    }
    const saved = JSON.parse(readFileSync(join(dir, "models", "tiny-bert-tuned", "config.json"), "utf8"));
    const original = JSON.parse(readFileSync(join(fixture, "init", "config.json"), "utf8"));
    assert.deepEqual(saved.id2label, original.id2label, "the model's own label ids are kept");
    assert.ok(existsSync(join(dir, "runs", "tiny", "eval_results.json")), "train() wrote its run folder");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
