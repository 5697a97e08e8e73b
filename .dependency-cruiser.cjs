// Enforces the layering of DESIGN.md §2: a folder under src/ may import its own folder and
// folders of a LOWER level only; peers on one level do not import each other.
// Run: npx depcruise src --config .dependency-cruiser.cjs
/** @type {Record<string, number>} folder under src/ -> level */
const LEVELS = {
  core: 0,
  // Test helpers (a loopback Hub, zip builders): level 0 so any test may use them; shipped code may not (rule below).
  testing: 0,
  graph: 1,
  ops: 2,
  runtime: 3,
  nn: 4, optim: 4, io: 4, tokenizers: 4,
  models: 5, data: 5, peft: 5, compress: 5, export: 5,
  train: 6,
  recipes: 7,
  hpo: 8, report: 8,
  cli: 9,
  fuzz: 10,
};
// Tests (*.test.ts) may also import anything up to this level (the engine and its test harness,
// src/runtime/check.ts), so an op's test can run it on ONNX Runtime.
const TEST_REACH = 3;

const TEST = "\\.test\\.ts$";
const folders = Object.keys(LEVELS);
const dir = (f) => `^src/${f}/`;

/** One rule per forbidden (from, to) pair, so each violation names both ends and levels. */
const layerRules = [];
for (const from of folders) {
  for (const to of folders) {
    if (to === from || LEVELS[to] < LEVELS[from]) continue;
    const message = `${from} (L${LEVELS[from]}) must not import ${to} (L${LEVELS[to]})`;
    layerRules.push({
      name: message,
      comment: `DESIGN.md §2: dependencies point downwards only; peers on one level do not import each other.`,
      severity: "error",
      from: { path: dir(from), pathNot: TEST },
      to: { path: dir(to) },
    });
    if (LEVELS[to] > TEST_REACH) {
      layerRules.push({
        name: `${message} (test)`,
        comment: `Tests follow their folder's layer, and may also reach the engine (levels 0-${TEST_REACH}).`,
        severity: "error",
        from: { path: `${dir(from)}.*${TEST}` },
        to: { path: dir(to) },
      });
    }
  }
}

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "folder not in the layer table",
      comment: "Every folder under src/ needs a level: add it to LEVELS in .dependency-cruiser.cjs (and to DESIGN.md §2).",
      severity: "error",
      from: {},
      to: { path: "^src/[^/]+/", pathNot: `^src/(${folders.join("|")})/` },
    },
    {
      name: "no circular dependency between folders",
      comment: "A cycle that leaves its folder couples two layers; cycles inside one folder are allowed.",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { circular: true, via: { pathNot: "^src/$1/" } },
    },
    {
      name: "only tests import src/testing",
      comment: "src/testing/ holds test helpers that are not shipped (package.json files): only *.test.ts files may import them.",
      severity: "error",
      from: { pathNot: `^src/testing/|${TEST}` },
      to: { path: "^src/testing/" },
    },
    {
      name: "src must not import dist/",
      comment: "dist/ is build output; import the .ts source (with a .js specifier) instead.",
      severity: "error",
      from: {},
      to: { path: "^dist/" },
    },
    {
      // Also keeps this config honest: if .js specifiers stopped resolving to .ts files,
      // every relative import would fail here instead of the layer rules passing vacuously.
      name: "import must resolve",
      comment: "The module this import names cannot be found (a typo, or a package missing from package.json).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ["node_modules", "^dist/"] },
    // Count `import type` edges too: a type-only import still couples two layers.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // `../graph/op.js` resolves to op.ts (dependency-cruiser retries .js specifiers as .ts, as tsc does).
    enhancedResolveOptions: {
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
