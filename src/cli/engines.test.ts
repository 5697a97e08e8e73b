import assert from "node:assert/strict";
import { test } from "node:test";
import { satisfies } from "./engines.js";

test("engines: npm range forms package.json files use", () => {
  const cases: [string, string, boolean | null][] = [
    ["20.20.2", ">=20.12", true], ["20.12.0", ">=20.12", true], ["20.11.9", ">=20.12", false], ["18.19.0", ">=20.12", false],
    ["v22.1.0", ">= 20.12", true],
    ["20.12.5", "^20.12.0", true], ["21.0.0", "^20.12.0", false], ["0.2.9", "^0.2.3", true], ["0.3.0", "^0.2.3", false],
    ["20.12.9", "~20.12", true], ["20.13.0", "~20.12", false],
    ["20.5.0", "20.x", true], ["21.0.0", "20", false], ["20.5.0", "20", true],
    ["18.20.0", "^18.17 || >=20.5", true], ["18.0.0", "^18.17 || >=20.5", false], ["19.0.0", "^18.17 || >=20.5", false], ["22.0.0", "^18.17 || >=20.5", true],
    ["20.0.0", ">=18 <21", true], ["21.0.0", ">=18 <21", false], ["21.0.0", ">20", true], ["20.9.0", ">20", false],
    ["20.0.0", "<=20", true], ["21.0.0", "<=20", false], ["20.0.0", "*", true], ["20.0.0", "", true],
    ["20.0.0", "18 - 22", null],
  ];
  for (const [v, r, want] of cases) assert.equal(satisfies(v, r), want, `${v} in "${r}"`);
});
