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

/** Every ```ts block of a Markdown file. */
const allCodeBlocks = (markdown: string) => [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);

/** Code without its // comments, for comparing translations of one program. */
const withoutComments = (code: string) => code.split("\n").map((l) => l.replace(/(^|\s)\/\/.*$/, "").trimEnd()).filter(Boolean).join("\n");

function typeCheck(files: string[]): string[] {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(repo, "node_modules", "@types")],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const line = where ? `:${where.line + 1}:${where.character + 1}` : "";
    const at = d.file ? `${d.file.fileName.replace(/^.*\//, "")}${line}: ` : "";
    return `${at}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

function run(dir: string, code: string, name: string) {
  const compilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };
  const js = ts.transpileModule(code, { compilerOptions });
  writeFileSync(join(dir, `${name}.mjs`), js.outputText);
  const r = spawnSync(process.execPath, [`${name}.mjs`], { cwd: dir, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, `the README's ${name} program failed:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

test("README: every ts block type-checks against the package; the TypeScript and search programs run", () => {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const readmeZh = readFileSync(join(repo, "README.zh-CN.md"), "utf8");
  const code = codeBlockUnder(readme, "Use it from TypeScript", "README.md");
  const zh = codeBlockUnder(readmeZh, "在 TypeScript 中使用", "README.zh-CN.md");
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
    const blocks = [...allCodeBlocks(readme).map((b, i) => [`readme_${i}.ts`, b]),
      ...allCodeBlocks(readmeZh).map((b, i) => [`readme_zh_${i}.ts`, b])];
    assert.ok(blocks.length >= 4, "both READMEs hold their ts blocks");
    for (const [name, block] of blocks) writeFileSync(join(dir, name), block);
    const errors = typeCheck(blocks.map(([name]) => join(dir, name)));
    assert.deepEqual(errors, [], `README code does not type-check:\n${errors.join("\n")}`);

    const out = run(dir, code, "typescript");
    assert.match(out, /^16 steps, training loss \d+\.\d{4}$/m, out);
    assert.match(out, /^validation accuracy (0|1)\.\d{3}$/m);
    assert.match(out, /test_loss \d+\.\d{4}/);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) {
      assert.ok(existsSync(join(dir, "models", "tiny-bert-tuned", f)), `saveModel wrote ${f}`);
    }
    const saved = JSON.parse(readFileSync(join(dir, "models", "tiny-bert-tuned", "config.json"), "utf8"));
    const original = JSON.parse(readFileSync(join(fixture, "init", "config.json"), "utf8"));
    assert.deepEqual(saved.id2label, original.id2label, "the model's own label ids are kept");
    assert.ok(existsSync(join(dir, "runs", "tiny", "eval_results.json")), "train() wrote its run folder");

    const search = allCodeBlocks(readme).find((b) => b.includes("createStudy"));
    assert.ok(search, "README.md shows the search API");
    assert.match(run(dir, search, "search"), /quadratic/);
    assert.ok(existsSync(join(dir, "search.db")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
