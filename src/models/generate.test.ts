// generate() against transformers 4.30 on fixtures/marian: greedy and three beam settings, token
// for token, with the decoded strings; and the cached decoder step against full recomputation.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { NDArray } from "../core/ndarray.js";
import { CompiledGraph } from "../runtime/session.js";
import { beamSearch, generate, type BeamStepInfo } from "./generate.js";
import { fromObject, readGenerationConfig, withOptions } from "./generation_config.js";
import { loadMarian } from "./marian_load.js";
import { MarianRunner, traceSeq2Seq } from "./marian_runner.js";

const MARIAN_DIR = fileURLToPath(new URL("../../fixtures/marian/", import.meta.url));
const expected = JSON.parse(readFileSync(`${MARIAN_DIR}expected.json`, "utf8"));
const { input_ids: inputIds, attention_mask: attentionMask } = expected.inputs as {
  input_ids: number[][];
  attention_mask: number[][];
};

for (const run of expected.generate) {
  test(`generate ${run.name} (${run.mode}): sequences, scores and decoded text as transformers`, async () => {
    const { model, tokenizer } = await loadMarian(MARIAN_DIR);
    const runner = await MarianRunner.compile(model, { threads: 1 });
    try {
      const cfg = fromObject(run.generation_config, {}, run.name);
      const steps: BeamStepInfo[] = [];
      const out =
        cfg.num_beams > 1
          ? await beamSearch(runner, inputIds, attentionMask, cfg, (s) => steps.push(s))
          : await generate(runner, inputIds, attentionMask, cfg);
      if (run.per_step) {
        // The scorer's state after every step, as read from transformers' BeamSearchScorer.
        assert.deepEqual(
          steps.map((s) => s.done),
          run.per_step.row_done_after_step,
        );
        assert.deepEqual(
          steps.map((s) => s.finishedHypotheses),
          run.per_step.finished_hypotheses_after_step,
        );
        steps.forEach((s, t) =>
          s.worstScore.forEach((w, b) => {
            const want = run.per_step.worst_score_after_step[t][b];
            assert.ok(
              want === null ? w === null : Math.abs(w! - want) <= 1e-5,
              `step ${t} row ${b}: worst ${w} vs ${want}`,
            );
          }),
        );
      }
      assert.deepEqual(out.sequences, run.sequences);
      assert.equal(out.stepsRun, run.steps_run);
      if (run.sequences_scores) {
        out.sequencesScores!.forEach((s, i) =>
          assert.ok(
            Math.abs(s - run.sequences_scores[i]) <= 1e-5,
            `sequences_scores[${i}]: ${s} vs ${run.sequences_scores[i]}`,
          ),
        );
      }
      assert.deepEqual(
        out.sequences.map((s) => tokenizer.decode(s)),
        run.decoded,
      );
      assert.deepEqual(
        out.sequences.map((s) => tokenizer.decode(s, { skipSpecialTokens: false })),
        run.decoded_keep_special,
      );
      // `tokens`: after the start token, up to and including </s>, no padding.
      out.tokens.forEach((t, i) => {
        const seq = run.sequences[i].slice(1);
        const end = seq.indexOf(expected.tokenizer.eos_token_id);
        assert.deepEqual(t, end < 0 ? seq : seq.slice(0, end + 1));
        assert.equal(tokenizer.decode(t), run.decoded[i]);
      });
    } finally {
      await runner.release();
    }
  });
}

test("generate: the cached decoder step gives the logits of a full decoder pass", async () => {
  const { model } = await loadMarian(MARIAN_DIR);
  const runner = await MarianRunner.compile(model, { threads: 1 });
  const { graph, outputs } = traceSeq2Seq(model, false);
  const full = await CompiledGraph.compile(graph, { logits: outputs.logits }, { threads: 1 });
  try {
    const prefix = expected.decoder_input_ids as number[][]; // any tokens will do: teacher forcing's
    const steps = 5;
    const state = await runner.begin(inputIds, attentionMask, 1);
    const int64 = (rows: number[][]): NDArray => ({
      dtype: "int64",
      shape: [rows.length, rows[0].length],
      data: BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
    });
    const feeds: Record<string, NDArray> = {
      input_ids: int64(inputIds),
      attention_mask: int64(attentionMask),
      decoder_input_ids: int64(prefix.map((r) => r.slice(0, steps))),
    };
    for (const [n, p] of model.namedParameters()) feeds[n] = { dtype: "float32", shape: [...p.shape], data: p.data };
    const ref = (await full.run(feeds)).logits.data as Float32Array;
    const V = model.config.vocab_size;
    for (let t = 0; t < steps; t++) {
      const logits = await state.step(prefix.map((r) => r[t]));
      for (let b = 0; b < prefix.length; b++) {
        for (let v = 0; v < V; v++) {
          const want = ref[(b * steps + t) * V + v];
          assert.ok(
            Math.abs(logits[b * V + v] - want) <= 1e-4 * Math.max(1, Math.abs(want)),
            `row ${b} step ${t} token ${v}: ${logits[b * V + v]} vs ${want}`,
          );
        }
      }
    }
  } finally {
    await Promise.all([runner.release(), full.release()]);
  }
});

test("generation config: generation_config.json's defaults, options over them, bad values refused", () => {
  const cfg = readGenerationConfig(MARIAN_DIR, {});
  assert.equal(cfg.num_beams, 4);
  assert.equal(cfg.max_length, 64);
  assert.deepEqual(cfg.bad_words_ids, [[494]]);
  assert.equal(cfg.forced_eos_token_id, 0);
  assert.equal(cfg.decoder_start_token_id, 494);
  const o = withOptions(cfg, { numBeams: 2, maxNewTokens: 7, earlyStopping: "never", lengthPenalty: 0.6 });
  assert.deepEqual(
    [o.num_beams, o.max_new_tokens, o.early_stopping, o.length_penalty, o.max_length],
    [2, 7, "never", 0.6, 64],
  );
  assert.throws(() => withOptions(cfg, { numBeams: 0 }), /num_beams must be a positive integer, got 0/);
  assert.throws(
    () => withOptions(cfg, { earlyStopping: "sometimes" as never }),
    /early_stopping must be true, false or "never"/,
  );
  assert.throws(
    () =>
      fromObject(
        { repetition_penalty: 1.2 },
        { decoder_start_token_id: 1, eos_token_id: 0, pad_token_id: 1 },
        "x.json",
      ),
    /x.json: "repetition_penalty" = 1.2 is not supported/,
  );
  assert.throws(
    () => fromObject({}, { eos_token_id: 0, pad_token_id: 1 }, "config.json"),
    /"decoder_start_token_id" is missing/,
  );
});
