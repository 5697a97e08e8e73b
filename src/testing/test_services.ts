import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Where the interop and PostgreSQL tests find their services. Locally a missing one skips its
 * tests with a message; CI sets WHET_REQUIRE_SERVICES=1 (.ci/run installs and starts them), where
 * a missing one fails instead of skipping.
 */
export const PYTHON = process.env.WHET_OPTUNA_PYTHON ?? "/usr/bin/python3";
export const POSTGRES_URL = process.env.WHET_TEST_POSTGRES_URL ?? "postgresql://whet:whet@localhost:5432/whet_test";
const REQUIRED = process.env.WHET_REQUIRE_SERVICES === "1";

/** null when Optuna can be imported, else why not. */
export function optunaMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ["-c", "import optuna"], { encoding: "utf8" });
  return r.status === 0 ? null : `python3-optuna is not installed (apt-get install -y python3-optuna): ${r.stderr.trim().split("\n").pop()}`;
}

/** The skip option for node:test, or a thrown error in CI. */
export function skipUnless(missing: string | null): { skip: string | false } {
  if (missing === null) return { skip: false };
  if (REQUIRED) throw new Error(`WHET_REQUIRE_SERVICES=1 but ${missing}`);
  return { skip: missing };
}
