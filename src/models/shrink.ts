import { WhetError } from "../core/errors.js";
import type { PretrainedConfig } from "../io/config.js";
import { createModel, familyOf, numLayers, taskFromConfig, type TaskModel } from "./auto.js";

/**
 * A student with `layers` encoder layers built from the teacher: same embeddings and head, and
 * the teacher's layers picked evenly (first and last kept), as DistilBERT was initialised.
 *
 * @example
 * const student = shrinkTeacher(teacher, 2, 42);   // a 12-layer teacher → layers 0 and 11
 */
export function shrinkTeacher(teacher: TaskModel, layers: number, seed: number): TaskModel {
  const c = teacher.config;
  const fam = familyOf(c);
  const total = numLayers(fam, c);
  if (!(layers >= 1 && layers <= total)) {
    throw new WhetError(`--student-layers must be between 1 and the teacher's ${total} layers, got ${layers}`);
  }
  const config = { ...c, [fam.sizeKeys.num_hidden_layers]: layers } as PretrainedConfig;
  const student = createModel(config, taskFromConfig(c) ?? "sequence-classification", seed);
  const pick = Array.from({ length: layers }, (_, i) =>
    (layers === 1 ? total - 1 : Math.round((i * (total - 1)) / (layers - 1))));
  const source = new Map(teacher.namedParameters());
  for (const [name, p] of student.namedParameters()) {
    const part = fam.partOf(name);
    const from = part.kind === "layer" ? name.replace(/\.layer\.(\d+)\./, `.layer.${pick[part.index]}.`) : name;
    const t = source.get(from);
    if (!t || t.data.length !== p.data.length) {
      throw new WhetError(`student parameter ${name} has no teacher counterpart ${from}`);
    }
    p.data = Float32Array.from(t.data);
  }
  return student;
}
