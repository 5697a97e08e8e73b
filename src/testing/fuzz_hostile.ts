// Fuzz targets that misbehave on purpose, for the harness's self-test (fuzz/fuzz.test.ts): each
// fault the harness promises to catch — a non-WhetError throw, a throw from a stray timer, a case
// that never returns, a case that eats memory — happens here on every case.
const seed = [new TextEncoder().encode("seed")];

/** The same shape as fuzz/targets.ts' fuzzTargets (this folder may not import it). */
export function fuzzTargets(): Promise<{ name: string; seeds: Uint8Array[]; run(input: Uint8Array): Promise<void> | void }[]> {
  const held: Buffer[] = [];
  return Promise.resolve([
    { name: "crash", seeds: seed, run: () => { throw new TypeError("json.added_tokens.map is not a function"); } },
    { name: "stray", seeds: seed, run: () => { setTimeout(() => { throw new RangeError("Invalid typed array length: -1"); }, 0); } },
    {
      name: "hang", seeds: seed,
      run: () => {
        for (;;) { /* a parser stuck in a loop: only terminating the worker stops it */ }
      },
    },
    {
      name: "memory", seeds: seed,
      // Touched pages (fill), so RSS really grows; at most 4 GB, far beyond the bound the test sets.
      run: () => {
        for (let i = 0; i < 1000; i++) held.push(Buffer.alloc(4 << 20).fill(i + 1));
      },
    },
  ]);
}
