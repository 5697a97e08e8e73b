import { Command } from "commander";
import { readFileSync } from "node:fs";
import { WhetError } from "../core/errors.js";
import { writeTextAtomic } from "../io/files.js";
import { checkOutputFile } from "../io/output_dir.js";
import { maxSequenceLength } from "../models/auto.js";
import { ForwardRunner } from "../models/forward.js";
import { checkFinite, checkInputRows, loadForInference, nested, padRows, rowsFromJsonl } from "./common.js";
import { maxOf } from "../core/iter.js";

function softmax(row: ArrayLike<number>): number[] {
  const m = maxOf(Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** `whet forward`: the raw model outputs, for inspection and parity checks. */
export function forwardCommand(): Command {
  return new Command("forward")
    .description("run the model in eval mode and write input ids, logits and the last hidden state as JSON")
    .requiredOption("--model <dir-or-id>", "model folder or Hub id (org/name[@revision])")
    .option("--adapter <dir>", "PEFT adapter folder to load onto --model")
    .requiredOption("--input <file>", 'JSONL: {"text", "text_pair"?} or {"input_ids", "attention_mask"?, "token_type_ids"?} per line')
    .requiredOption("--output <file>", "JSON file to write")
    .option("--max-length <n>", "truncate texts to this many tokens", Number)
    .option("--threads <n>", "ONNX Runtime threads", Number)
    .action(async (o) => {
      const m = await loadForInference(o.model, o.adapter);
      if (o.output !== "-") checkOutputFile(o.output, [o.input, m.dir, o.adapter], "--output");
      const rows = await rowsFromJsonl(o.input, m.tokenizer, o.maxLength, maxSequenceLength(m.model.config));
      if (rows.length === 0) throw new WhetError(`${o.input} holds no input`);
      checkInputRows(rows, m.model.config, o.input);
      const feeds = padRows(rows, m.tokenizer.padTokenId ?? 0, m.tokenTypes);
      const runner = await ForwardRunner.compile(m.model, { tokenTypes: m.tokenTypes, outputs: ["logits", "last_hidden_state"], threads: o.threads });
      const out = await runner.run(feeds);
      await runner.release();
      checkFinite(out.logits, "logit");
      checkFinite(out.last_hidden_state, "hidden state");
      await writeTextAtomic(o.output, JSON.stringify({
        input_ids: nested(feeds.input_ids),
        attention_mask: nested(feeds.attention_mask),
        logits: nested(out.logits),
        last_hidden_state: nested(out.last_hidden_state),
      }));
    });
}

/** `whet predict`: one line per input with the label, its score (and the logits). */
export function predictCommand(): Command {
  return new Command("predict")
    .description("classify each input line; writes one JSON line per input with label and score")
    .requiredOption("--model <dir-or-id>", "model folder or Hub id")
    .option("--adapter <dir>", "PEFT adapter folder to load onto --model")
    .requiredOption("--input <file>", 'JSONL: {"text", "text_pair"?} or {"input_ids", ...} per line')
    .requiredOption("--output <file>", "JSONL file to write; - for stdout")
    .option("--logits", "include the logits")
    .option("--batch-size <n>", "inputs per forward pass", Number, 32)
    .option("--max-length <n>", "truncate texts to this many tokens", Number)
    .option("--threads <n>", "ONNX Runtime threads", Number)
    .action(async (o) => {
      const m = await loadForInference(o.model, o.adapter);
      if (o.output !== "-") checkOutputFile(o.output, [o.input, m.dir, o.adapter], "--output");
      if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new WhetError(`--batch-size must be a whole number of at least 1, got ${o.batchSize}`);
      const rows = await rowsFromJsonl(o.input, m.tokenizer, o.maxLength, maxSequenceLength(m.model.config));
      checkInputRows(rows, m.model.config, o.input);
      const runner = await ForwardRunner.compile(m.model, { tokenTypes: m.tokenTypes, outputs: ["logits"], threads: o.threads });
      const problem = m.model.config.problem_type;
      const lines: string[] = [];
      for (let i = 0; i < rows.length; i += o.batchSize) {
        const chunk = rows.slice(i, i + o.batchSize);
        const out = await runner.run(padRows(chunk, m.tokenizer.padTokenId ?? 0, m.tokenTypes));
        checkFinite(out.logits, "logit");
        const lg = out.logits.data as Float32Array;
        const C = out.logits.shape[out.logits.shape.length - 1];
        chunk.forEach((r, b) => {
          if (m.task === "token-classification") {
            const T = out.logits.shape[1];
            const labels = r.input_ids.map((_, t) => {
              const p = softmax(lg.subarray((b * T + t) * C, (b * T + t + 1) * C));
              const k = p.indexOf(maxOf(p));
              return { label: m.labels[k], score: p[k] };
            });
            lines.push(JSON.stringify({ tokens: r.input_ids.map((id) => m.tokenizer.idToToken(id)), labels: labels.map((l) => l.label), scores: labels.map((l) => l.score) }));
            return;
          }
          const row = Array.from(lg.subarray(b * C, (b + 1) * C));
          let rec: Record<string, unknown>;
          if (problem === "regression" || C === 1) rec = { label: m.labels[0] ?? "LABEL_0", score: row[0] };
          else if (problem === "multi_label_classification") {
            const p = row.map((v) => 1 / (1 + Math.exp(-v)));
            rec = { labels: m.labels.filter((_, k) => p[k] > 0.5), scores: Object.fromEntries(m.labels.map((l, k) => [l, p[k]])) };
          } else {
            const p = softmax(row);
            const k = p.indexOf(maxOf(p));
            rec = { label: m.labels[k], score: p[k] };
          }
          if (o.logits) rec.logits = row;
          lines.push(JSON.stringify(rec));
        });
      }
      await runner.release();
      const text = lines.join("\n") + (lines.length ? "\n" : "");
      if (o.output === "-") process.stdout.write(text);
      else await writeTextAtomic(o.output, text);
    });
}

/** `whet tokenize`: ids (special tokens included) and tokens of each line of a text file. */
export function tokenizeCommand(): Command {
  return new Command("tokenize")
    .description("tokenize each line of a text file; prints one JSON line per text with ids and tokens")
    .requiredOption("--model <dir-or-id>", "model folder or Hub id (only the tokenizer is read)")
    .requiredOption("--input <file>", "text file, one text per line")
    .option("--max-length <n>", "truncate to this many tokens", Number)
    .action(async (o) => {
      const { resolveModel } = await import("../io/hub.js");
      const { loadTokenizer } = await import("../tokenizers/index.js");
      const tok = await loadTokenizer(await resolveModel(o.model));
      const lines = readFileSync(o.input, "utf8").split(/\r?\n/);
      if (lines.at(-1) === "") lines.pop();
      for (const text of lines) {
        const e = await tok.encode(text, null, o.maxLength ? { maxLength: o.maxLength, truncation: true } : {});
        process.stdout.write(JSON.stringify({ ids: e.ids, tokens: e.tokens }) + "\n");
      }
    });
}
