#!/usr/bin/env node
// MarianMT decoding speed: whet's generate (ONNX Runtime, cached decoder step) beside a
// hand-written PyTorch Marian (bench/marian_torch.py) with the same shapes and threads, in one run.
//
// usage: node bench/marian.mjs [--small] [--only whet|torch] [--threads N]
//   default: opus-mt-en-de's shape with random weights (d_model 512, 6+6 layers, 8 heads, ffn 2048,
//            vocab 58101), batch 8, 32 source tokens, 32 new tokens, greedy and 4 beams, 2 threads
//   --small: d_model 256, 3+3 layers, vocab 8000 (a quick look)
// </s> is banned until the last step and forced there (min_length + forced_eos_token_id), so both
// engines generate exactly the same number of tokens whatever the random weights prefer.
// tokens/s = batch x new tokens / seconds for the whole generate call (encoder included), best of
// `repeats` after a warm-up. Needs a build (npm run build) and Debian's python3-torch.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const small = args.includes("--small");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : null;
const threads = args.includes("--threads") ? Number(args[args.indexOf("--threads") + 1]) : 2;
const S = small
  ? { d_model: 256, layers: 3, heads: 4, ffn: 1024, vocab: 8000 }
  : { d_model: 512, layers: 6, heads: 8, ffn: 2048, vocab: 58101 };
const RUN = { batch: 8, src_len: 32, new_tokens: 32, beams: 4, threads, repeats: 2, max_pos: 512 };

async function whet() {
  const dist = (p) => join(ROOT, "dist", p);
  if (!existsSync(dist("models/marian.js"))) throw new Error("build first: npm run build");
  const { MarianMTModel, marianConfig } = await import(dist("models/marian.js"));
  const { MarianRunner } = await import(dist("models/marian_runner.js"));
  const { generate } = await import(dist("models/generate.js"));
  const { fromObject } = await import(dist("models/generation_config.js"));
  const pad = S.vocab - 1;
  const config = marianConfig({
    model_type: "marian",
    vocab_size: S.vocab,
    d_model: S.d_model,
    encoder_layers: S.layers,
    decoder_layers: S.layers,
    encoder_attention_heads: S.heads,
    decoder_attention_heads: S.heads,
    encoder_ffn_dim: S.ffn,
    decoder_ffn_dim: S.ffn,
    max_position_embeddings: RUN.max_pos,
    activation_function: "swish",
    scale_embedding: true,
    pad_token_id: pad,
    decoder_start_token_id: pad,
    eos_token_id: 0,
  });
  const model = new MarianMTModel(config);
  model.initWeights(0);
  const runner = await MarianRunner.compile(model, { threads: RUN.threads });
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const ids = Array.from({ length: RUN.batch }, () => [
    ...Array.from({ length: RUN.src_len - 1 }, () => 1 + Math.floor(rand() * (S.vocab - 2))),
    0,
  ]);
  const mask = ids.map((r) => r.map(() => 1));
  const rows = [];
  for (const [mode, beams] of [
    ["greedy", 1],
    [`beam${RUN.beams}`, RUN.beams],
  ]) {
    const cfg = fromObject(
      {
        num_beams: beams,
        max_new_tokens: RUN.new_tokens,
        min_length: RUN.new_tokens,
        forced_eos_token_id: 0,
        bad_words_ids: [[pad]],
      },
      config,
      "bench",
    );
    const out = await generate(runner, ids, mask, cfg); // warm-up
    if (out.tokens.some((t) => t.length !== RUN.new_tokens))
      throw new Error(`expected ${RUN.new_tokens} tokens per row`);
    let best = Infinity;
    for (let r = 0; r < RUN.repeats; r++) {
      const t0 = performance.now();
      await generate(runner, ids, mask, cfg);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    const tokens = RUN.batch * RUN.new_tokens;
    process.stderr.write(`whet ${mode}: ${(tokens / best).toFixed(1)} tokens/s\n`);
    rows.push({
      engine: "whet",
      mode,
      tokens,
      seconds: Number(best.toFixed(4)),
      tokens_per_s: Number((tokens / best).toFixed(1)),
      threads: RUN.threads,
    });
  }
  await runner.release();
  return rows;
}

function torch() {
  const script = join(ROOT, "bench", "marian_torch.py");
  const flags = Object.entries({ ...S, ...RUN }).flatMap(([k, v]) => [`--${k.replace(/_/g, "-")}`, String(v)]);
  const r = spawnSync("/usr/bin/python3", [script, ...flags], { encoding: "utf8", timeout: 30 * 60 * 1000 });
  if (r.status !== 0) throw new Error(`PyTorch side failed (apt-get install python3-torch?): ${r.stderr.slice(-2000)}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

const rows = [];
if (only !== "torch") rows.push(...(await whet()));
if (only !== "whet") rows.push(...torch());
process.stdout.write(
  `MarianMT decoding, ${small ? "small" : "opus-mt-en-de shape"} (d_model ${S.d_model}, ${S.layers}+${S.layers} layers, vocab ${S.vocab}), ` +
    `batch ${RUN.batch}, ${RUN.src_len} source / ${RUN.new_tokens} new tokens, ${RUN.threads} threads\n`,
);
for (const r of rows)
  process.stdout.write(
    `  ${r.engine.padEnd(6)} ${r.mode.padEnd(7)} ${String(r.tokens_per_s).padStart(8)} tokens/s  (${r.seconds} s)\n`,
  );
process.stdout.write(JSON.stringify({ config: { ...S, ...RUN }, rows }) + "\n");
