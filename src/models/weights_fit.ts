// config.json against the checkpoint's tensor shapes, before a single parameter is allocated: a
// config that asks for hidden_size 12288 next to a 200 KB checkpoint, or for fewer layers than
// the checkpoint holds, is an error naming both sides instead of gigabytes allocated first or a
// model that silently runs with a different depth.
import { WhetError } from "../core/errors.js";
import { architectureSizes, type PretrainedConfig } from "../io/config.js";
import { familyOf } from "./auto.js";

/**
 * Throws when the checkpoint's shapes contradict the config: embedding table [vocab, hidden],
 * position table [positions, hidden], first feed-forward [intermediate, hidden], layer count.
 * Tensors the checkpoint lacks are not judged here (loading names them).
 */
export function checkWeightsFitConfig(config: PretrainedConfig, shapes: ReadonlyMap<string, { shape: readonly number[] }>, source: string): void {
  const s = architectureSizes(config);
  const prefix = familyOf(config).prefix;
  if (!s) return;
  const distil = config.model_type === "distilbert";
  const find = (name: string) => shapes.get(`${prefix}.${name}`)?.shape ?? shapes.get(name)?.shape;
  const keys = distil
    ? { hidden: "dim", layers: "n_layers", intermediate: "hidden_dim" }
    : { hidden: "hidden_size", layers: "num_hidden_layers", intermediate: "intermediate_size" };
  const expect = (tensor: string, want: [number, number], what: string) => {
    const got = find(tensor);
    if (!got) return;
    if (got.length !== 2 || got[0] !== want[0] || got[1] !== want[1]) {
      throw new WhetError(`loading ${source}: config.json's ${what} give "${tensor}" the shape [${want.join(", ")}], the checkpoint has [${got.join(", ")}]; config.json does not describe these weights`);
    }
  };
  expect("embeddings.word_embeddings.weight", [s.vocab, s.hidden], `vocab_size ${s.vocab} and ${keys.hidden} ${s.hidden}`);
  expect("embeddings.position_embeddings.weight", [s.positions, s.hidden], `max_position_embeddings ${s.positions} and ${keys.hidden} ${s.hidden}`);
  const layer = distil ? "transformer.layer" : "encoder.layer";
  expect(`${layer}.0.${distil ? "ffn.lin1" : "intermediate.dense"}.weight`, [s.intermediate, s.hidden], `${keys.intermediate} ${s.intermediate} and ${keys.hidden} ${s.hidden}`);
  const indices = new Set<number>();
  const re = new RegExp(`(?:^|\\.)${layer.replace(".", "\\.")}\\.(\\d+)\\.`);
  for (const k of shapes.keys()) {
    const m = re.exec(k);
    if (m) indices.add(Number(m[1]));
  }
  if (indices.size > 0 && indices.size !== s.layers) {
    throw new WhetError(`loading ${source}: config.json's ${keys.layers} is ${s.layers} but the checkpoint holds ${indices.size} layers; config.json does not describe these weights`);
  }
}
