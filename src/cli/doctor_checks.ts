// The checks behind `whet doctor` (see doctor.ts). Native modules are imported inside their
// checks, so a broken install is reported instead of failing to load this file.
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, freemem, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { hfHome, hubCacheDir } from "../io/hub_cache.js";
import { hubReachCheck } from "./doctor_hub.js";
import { satisfies } from "./engines.js";

type Env = Record<string, string | undefined>;
export type Status = "ok" | "warn" | "fail" | "info";

export interface Check {
  name: string;
  status: Status;
  /** One line: what was found. */
  detail: string;
  /** For warn/fail: what to do about it. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  /** One line per failed check: "name: detail — fix". */
  problems: string[];
  checks: Check[];
  node: { version: string; required: string | null; satisfied: boolean | null };
  onnxruntime: { version: string | null; backends: { name: string; bundled: boolean }[]; session: "ok" | string };
  tokenizers: { version: string | null; loaded: boolean };
  threads: number;
  memory: { total_bytes: number; available_bytes: number; limit_bytes: number | null };
  huggingface: { home: string; cache_dir: string; cache: "writable" | "will be created" | string; env: Record<string, string>; token: "HF_TOKEN" | "HUGGING_FACE_HUB_TOKEN" | "token file" | "none" };
}

const GiB = 1024 ** 3;
const gib = (n: number) => `${(n / GiB).toFixed(1)} GiB`;
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** A dependency's version from its package.json, found by walking up from its resolved entry. */
function packageVersion(name: string): string | null {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(name));
    for (;;) {
      const pj = join(dir, "package.json");
      if (existsSync(pj)) {
        const j = JSON.parse(readFileSync(pj, "utf8"));
        if (j.name === name) return j.version ?? null;
      }
      const up = dirname(dir);
      if (up === dir) return null;
      dir = up;
    }
  } catch {
    return null;
  }
}

function nodeCheck(): { check: Check; info: DoctorReport["node"] } {
  const version = process.versions.node;
  let required: string | null = null;
  try {
    required = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).engines?.node ?? null;
  } catch {
    // An installed package always has its package.json; a missing one only skips the comparison.
  }
  const satisfied = required === null ? null : satisfies(version, required);
  const check: Check = satisfied === false
    ? { name: "node", status: "fail", detail: `Node.js ${version} does not satisfy whet's engines.node "${required}"`, fix: `install Node.js ${required}` }
    : { name: "node", status: satisfied === null ? "warn" : "ok", detail: `Node.js ${version}${required ? ` (whet needs ${required}${satisfied === null ? ", not checked" : ""})` : ""}` };
  return { check, info: { version, required, satisfied } };
}

/** Load onnxruntime-node, then compile and run y = 2x through CompiledGraph, as training does. */
async function ortCheck(): Promise<{ checks: Check[]; info: DoctorReport["onnxruntime"] }> {
  const info: DoctorReport["onnxruntime"] = { version: packageVersion("onnxruntime-node"), backends: [], session: "not tried" };
  let ort: typeof import("onnxruntime-node");
  try {
    ort = await import("onnxruntime-node");
  } catch (e) {
    info.session = `cannot load: ${errText(e)}`;
    return { info, checks: [{ name: "onnxruntime", status: "fail", detail: `onnxruntime-node failed to load: ${errText(e)}`, fix: "reinstall it (npm ci); its CPU binaries ship inside the npm package" }] };
  }
  info.version = ort.env.versions.node ?? ort.env.versions.common ?? info.version;
  try {
    info.backends = ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  } catch {
    // Older builds lack listSupportedBackends; the session test below still says whether the CPU works.
  }
  try {
    // Sequential: concurrent import() can fail in Node 20 (nodejs/node#52187).
    const { Graph, trace } = await import("../graph/graph.js");
    const { mul } = await import("../ops/elementwise.js");
    const { CompiledGraph } = await import("../runtime/session.js");
    const g = new Graph();
    const x = g.input("x", [2], "float32");
    const compiled = await CompiledGraph.compile(g, trace(g, () => ({ y: mul(x, 2) })), { threads: 1, name: "doctor" });
    try {
      const out = await compiled.run({ x: { dtype: "float32", shape: [2], data: Float32Array.of(1.5, -2) } });
      const y = Array.from(out.y.data as Float32Array);
      if (y[0] !== 3 || y[1] !== -4) throw new Error(`y = 2x gave [${y.join(", ")}] for x = [1.5, -2]`);
    } finally {
      await compiled.release();
    }
    info.session = "ok";
  } catch (e) {
    info.session = errText(e);
  }
  const ready = info.backends.filter((b) => b.bundled).map((b) => b.name);
  const absent = info.backends.filter((b) => !b.bundled).map((b) => b.name);
  const providers = info.backends.length ? `; execution providers: ${ready.join(", ") || "none"}${absent.length ? ` (not installed: ${absent.join(", ")})` : ""}` : "";
  const check: Check = info.session === "ok"
    ? { name: "onnxruntime", status: "ok", detail: `onnxruntime-node ${info.version}: a test graph compiled and ran on the CPU${providers}` }
    : { name: "onnxruntime", status: "fail", detail: `onnxruntime-node ${info.version} loaded but a one-op graph failed: ${info.session}`, fix: "reinstall onnxruntime-node (npm ci)" };
  return { checks: [check], info };
}

async function tokenizersCheck(): Promise<{ check: Check; info: DoctorReport["tokenizers"] }> {
  const version = packageVersion("tokenizers");
  try {
    await import("tokenizers");
    return { check: { name: "tokenizers", status: "ok", detail: `tokenizers ${version} (native module) loaded` }, info: { version, loaded: true } };
  } catch (e) {
    return {
      check: { name: "tokenizers", status: "fail", detail: `the tokenizers native module failed to load: ${errText(e)}`, fix: `reinstall it (npm ci); it ships binaries for ${process.platform}-${process.arch} in the npm package` },
      info: { version, loaded: false },
    };
  }
}

function memoryCheck(): { check: Check; info: DoctorReport["memory"] } {
  const total = totalmem(), available = freemem();
  // A container's memory limit (cgroup) hides behind totalmem(); Node 20 reads it here.
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() || 0;
  const cap = limit > 0 && limit < total ? limit : null;
  const detail = `memory: ${gib(total)} total, ${gib(available)} available${cap ? `, ${gib(cap)} container limit` : ""}`;
  // BERT-small training peaks near 2.7 GB at batch 32 × 128 (README, Performance).
  const low = Math.min(available, cap ?? Infinity) < 2 * GiB;
  return {
    check: low ? { name: "memory", status: "warn", detail, fix: "under 2 GiB available: use a smaller model, batch or max_length" } : { name: "memory", status: "ok", detail },
    info: { total_bytes: total, available_bytes: available, limit_bytes: cap },
  };
}

/** Whether `dir` can be written, or created under its nearest existing ancestor. */
function writableDir(dir: string): "writable" | "will be created" | string {
  let p = dir;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  try {
    if (!statSync(p).isDirectory()) return `${p} is a file, not a folder`;
    accessSync(p, constants.W_OK);
  } catch {
    return `${p} is not writable`;
  }
  return p === dir ? "writable" : "will be created";
}

const TOKEN_NAME = /TOKEN/;

function hubChecks(env: Env): { checks: Check[]; info: DoctorReport["huggingface"] } {
  const cacheDir = hubCacheDir(env), home = hfHome(env);
  const cache = writableDir(cacheDir);
  // Tokens are secrets: only whether they are set is shown, never the value.
  const vars = Object.keys(env).filter((k) => /^(HF_|HUGGING_?FACE_)/.test(k) && env[k] !== undefined).sort();
  const shown = Object.fromEntries(vars.map((k) => [k, TOKEN_NAME.test(k) ? "(set)" : env[k]!]));
  const tokenFile = env.HF_TOKEN_PATH ?? join(home, "token");
  const token: DoctorReport["huggingface"]["token"] = env.HF_TOKEN ? "HF_TOKEN" : env.HUGGING_FACE_HUB_TOKEN ? "HUGGING_FACE_HUB_TOKEN" : existsSync(tokenFile) ? "token file" : "none";
  const checks: Check[] = [
    cache === "writable" || cache === "will be created"
      ? { name: "hub-cache", status: "ok", detail: `Hugging Face cache: ${cacheDir} (${cache})` }
      : { name: "hub-cache", status: "fail", detail: `Hugging Face cache ${cacheDir} cannot be written: ${cache}`, fix: "set HF_HOME or HF_HUB_CACHE to a writable folder" },
    { name: "hf-env", status: "info", detail: `HF variables: ${vars.length ? vars.map((k) => `${k}=${shown[k]}`).join(", ") : "none set"}` },
    { name: "hub-token", status: "info", detail: `Hub token: ${token === "none" ? "none (public models only)" : `from ${token === "token file" ? tokenFile : token}`}` },
  ];
  if (/^(1|true|yes|on)$/i.test(env.HF_HUB_OFFLINE ?? "")) checks.push({ name: "hub-offline", status: "info", detail: "HF_HUB_OFFLINE is set: models load from the cache or local folders only" });
  return { checks, info: { home, cache_dir: cacheDir, cache, env: shown, token } };
}

export async function runDoctor(env: Env = process.env): Promise<DoctorReport> {
  const node = nodeCheck(), ort = await ortCheck(), tok = await tokenizersCheck(), mem = memoryCheck(), hub = hubChecks(env);
  hub.checks.push(await hubReachCheck(env));
  const threads = availableParallelism();
  const checks: Check[] = [
    node.check, ...ort.checks, tok.check,
    { name: "threads", status: "info", detail: `threads: ${threads} available; ONNX Runtime uses them all unless --threads says otherwise` },
    mem.check, ...hub.checks,
  ];
  const problems = checks.filter((c) => c.status === "fail").map((c) => `${c.name}: ${c.detail}${c.fix ? ` — ${c.fix}` : ""}`);
  return { ok: problems.length === 0, problems, checks, node: node.info, onnxruntime: ort.info, tokenizers: tok.info, threads, memory: mem.info, huggingface: hub.info };
}

