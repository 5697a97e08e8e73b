import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WhetError } from "./errors.js";

/** The little of WebAssembly's JS API a kernel uses (TypeScript's ES2022 lib does not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const compiled = new Map<string, object>();

/**
 * Instantiates a WebAssembly kernel built from a .wat beside its loader (scripts/build-wasm.mjs
 * writes the .wasm next to the compiled .js). The modules are a few hundred bytes, so compiling
 * them synchronously at first use costs well under a millisecond.
 *
 * @example
 * const { exports } = loadWasmKernel(new URL("./adamw_kernel.wasm", import.meta.url));
 */
export function loadWasmKernel(url: URL, imports?: Record<string, Record<string, unknown>>): WasmInstance {
  // One compile per module: every instance (one per memory) shares it.
  let module = compiled.get(url.href);
  if (!module) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(url);
    } catch (e) {
      throw new WhetError(`loading the WebAssembly kernel ${fileURLToPath(url)}: ${(e as Error).message} (\`npm run build\` builds it)`);
    }
    module = new wasm.Module(bytes);
    compiled.set(url.href, module);
  }
  return new wasm.Instance(module, imports);
}

/** A memory of `pages` 64 KiB pages for a kernel that imports one (env.memory); RangeError if it cannot be reserved. */
export function wasmMemory(pages: number): WasmMemory {
  return new wasm.Memory({ initial: pages });
}

/**
 * Grows a kernel's memory to at least `bytes` and returns a float32 view of it. Growing detaches
 * earlier views, so callers keep only the one returned last.
 */
export function wasmFloats(memory: WasmMemory, bytes: number): Float32Array {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
  return new Float32Array(memory.buffer);
}
