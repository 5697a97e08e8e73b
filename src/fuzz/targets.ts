// What the fuzzer feeds: every parser that reads a file or a server's answer, each with seed
// inputs made here or taken from the project's fixtures. A target returns normally or throws a
// WhetError (a clean refusal); anything else is a bug.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WhetError } from "../core/errors.js";
import { parseConll } from "../data/conll.js";
import { parseTable } from "../data/read.js";
import { readRunConfig } from "../cli/args_options.js";
import { parseConfig } from "../io/config.js";
import { RepoCache } from "../io/hub_cache.js";
import { parseHubMeta } from "../io/hub_http.js";
import { readSafetensors, writeSafetensors } from "../io/safetensors.js";
import { readTorchBin } from "../io/torch_bin.js";
import { loadTokenizer } from "../tokenizers/index.js";
import { resolveArguments } from "../train/arguments.js";

export interface FuzzTarget {
  name: string;
  seeds: Uint8Array[];
  run(input: Uint8Array): Promise<void> | void;
}

const fixtures = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const fixture = (p: string) => new Uint8Array(readFileSync(join(fixtures, p)));

/** Builds the targets; `scratch` is a folder the file-based ones may write into. */
export async function fuzzTargets(scratch: string): Promise<FuzzTarget[]> {
  const bertDir = join(fixtures, "hf", "bert-seq");
  const tokDir = join(scratch, "tokenizer-seed");
  mkdirSync(tokDir, { recursive: true });
  await (await loadTokenizer(bertDir)).save(tokDir);
  const tokenizerJson = new Uint8Array(readFileSync(join(tokDir, "tokenizer.json")));
  const vocab = fixture("hf/bert-seq/vocab.txt").subarray(0, 2000);
  const robertaVocab = fixture("hf/roberta-seq/vocab.json"), robertaMerges = fixture("hf/roberta-seq/merges.txt");
  let n = 0;
  /** A fresh folder holding `files`, removed after `fn`. */
  const inFolder = async (files: Record<string, Uint8Array>, fn: (dir: string) => Promise<void>) => {
    const dir = join(scratch, `case-${n++}`);
    mkdirSync(dir);
    try {
      for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b);
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const cache = new RepoCache(join(scratch, "cache"), "org/name");
  return [
    {
      name: "safetensors",
      seeds: [writeSafetensors(new Map([["a.weight", { dtype: "F32", shape: [2, 3], data: new Uint8Array(24) }], ["b", { dtype: "I64", shape: [2], data: new Uint8Array(16) }]]), { format: "pt" })],
      run: (b) => void readSafetensors(b, "fuzz.safetensors"),
    },
    { name: "zip/pickle", seeds: [fixture("io/state_dict.bin"), fixture("io/legacy.bin")], run: (b) => void readTorchBin(b, "fuzz.bin") },
    {
      name: "config.json",
      seeds: [fixture("hf/bert-seq/config.json"), fixture("hf/distilbert-seq/config.json"), fixture("hf/roberta-seq/config.json")],
      run: (b) => void parseConfig(dec(b), "fuzz/config.json"),
    },
    {
      name: "tokenizer.json",
      seeds: [tokenizerJson],
      run: (b) => inFolder({ "tokenizer.json": b }, async (dir) => void (await (await loadTokenizer(dir)).encode("Hello world, fuzz!", "pair"))),
    },
    {
      name: "vocab.txt",
      seeds: [vocab],
      run: (b) => inFolder({ "vocab.txt": b }, async (dir) => void (await (await loadTokenizer(dir)).encode("hello world"))),
    },
    {
      // tokenizer_config.json, then the same bytes as special_tokens_map.json, beside a good vocab.txt.
      name: "tokenizer_config",
      seeds: [fixture("hf/bert-seq/tokenizer_config.json"), fixture("hf/roberta-seq/tokenizer_config.json"),
        fixture("hf/roberta-seq/special_tokens_map.json")],
      run: async (b) => {
        for (const name of ["tokenizer_config.json", "special_tokens_map.json"]) {
          await inFolder({ "vocab.txt": vocab, [name]: b }, async (dir) => void (await (await loadTokenizer(dir)).encode("Hello [MASK]", "x")))
            .catch((e: unknown) => { if (!isClean(e)) throw e; });
        }
      },
    },
    {
      // The byte-level BPE pair: a mutated vocab.json with good merges, then good vocab.json with mutated merges.
      name: "vocab.json/merges",
      seeds: [fixture("hf/roberta-seq/vocab.json"), fixture("hf/roberta-seq/merges.txt")],
      run: async (b) => {
        const pairs = [{ "vocab.json": b, "merges.txt": robertaMerges }, { "vocab.json": robertaVocab, "merges.txt": b }];
        for (const files of pairs) {
          await inFolder(files, async (dir) => void (await (await loadTokenizer(dir)).encode("Hello world, fuzz!", "pair")))
            .catch((e: unknown) => { if (!isClean(e)) throw e; });
        }
      },
    },
    {
      name: "csv/tsv/jsonl",
      seeds: [enc("text,label\n\"a, b\",1\nc,0\n"), enc("text\tlabel\nx\t1\ny\t0\n"), enc('{"text": "a", "label": 1}\n{"text": "b", "label": [1, 0]}\n')],
      run: (b) => {
        for (const format of ["csv", "tsv", "jsonl"] as const) {
          try {
            parseTable(b, `fuzz.${format}`, { format });
          } catch (e) {
            if (!isClean(e)) throw e;
          }
        }
      },
    },
    {
      name: "conll",
      seeds: [enc("EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\n"), enc('{"tokens": ["EU", "x"], "ner_tags": ["B-ORG", "O"]}\n')],
      run: (b) => {
        parseConllSafely(b, "fuzz.conll");
        parseConllSafely(b, "fuzz.jsonl");
      },
    },
    {
      name: "run config",
      seeds: [enc("learning_rate: 2e-5\nnum_train_epochs: 3\noutput_dir: out\nper_device_train_batch_size: 16\n")],
      run: (b) => inFolder({ "run.yaml": b }, async (dir) => void resolveArguments({ output_dir: "o", ...readRunConfig(join(dir, "run.yaml")) }, "train")),
    },
    {
      name: "hub headers",
      seeds: [enc(`X-Repo-Commit: ${"a".repeat(40)}\nETag: "${"b".repeat(40)}"\nContent-Length: 12\n`),
        enc(`X-Repo-Commit: ${"c".repeat(40)}\nX-Linked-Etag: "${"d".repeat(64)}"\nX-Linked-Size: 300\nETag: "x"\n`)],
      run: (b) => hubHeaders(b, cache),
    },
  ];
}

function parseConllSafely(b: Uint8Array, path: string): void {
  try {
    parseConll(dec(b), path);
  } catch (e) {
    if (!isClean(e)) throw e;
  }
}

/** Whatever a server says, a validated answer names paths inside the cache. */
function hubHeaders(b: Uint8Array, cache: RepoCache): void {
  const headers = new Headers();
  for (const line of dec(b).split("\n")) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    try {
      headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
    } catch {
      return; // not a header fetch could deliver
    }
  }
  const meta = parseHubMeta(headers, 200, "http://h/x", "fuzz", "http://h/x", "http://h");
  cache.blobPath(meta.etag);
  cache.snapshotFile(meta.commit, "config.json");
}

/** A clean refusal: a WhetError (HubError included). */
export function isClean(e: unknown): boolean {
  return e instanceof WhetError;
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), "whet-fuzz-"));
}
