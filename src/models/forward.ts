import type { DType } from "../core/dtype.js";
import { WhetError } from "../core/errors.js";
import type { NDArray } from "../core/ndarray.js";
import { Graph, trace } from "../graph/graph.js";
import type { Tensor } from "../graph/tensor.js";
import { CompiledGraph } from "../runtime/session.js";
import type { TaskModel } from "./auto.js";
import type { EncoderInputs } from "./bert.js";

export type ForwardOutput = "logits" | "last_hidden_state" | "loss";

export interface ForwardOptions {
  /** Whether the graph takes token_type_ids (BERT-style models). */
  tokenTypes: boolean;
  /** The labels' dtype when the loss is wanted: int64 for classes, float32 for regression / multi-label. */
  labels?: DType;
  /** Label shape: ["batch"] for sequence tasks, ["batch", "seq"] for token tasks. */
  labelShape?: string[];
  outputs?: ForwardOutput[];
  threads?: number;
}

/** Trace the model's eval-mode forward on symbolic [batch, seq] inputs: the export graph too. */
export function traceForward(model: TaskModel, o: ForwardOptions): { graph: Graph; inputs: Tensor[]; outputs: Record<string, Tensor> } {
  const g = new Graph();
  g.training = false;
  return trace(g, () => {
    const b: EncoderInputs = {
      input_ids: g.input("input_ids", ["batch", "seq"], "int64"),
      attention_mask: g.input("attention_mask", ["batch", "seq"], "int64"),
    };
    if (o.tokenTypes) b.token_type_ids = g.input("token_type_ids", ["batch", "seq"], "int64");
    const wantLoss = (o.outputs ?? ["logits"]).includes("loss");
    if (wantLoss) {
      if (!o.labels) throw new WhetError("forward: the loss was asked for but no label dtype was given");
      b.labels = g.input("labels", o.labelShape ?? ["batch"], o.labels);
    }
    const out = model.forward(b);
    const outputs: Record<string, Tensor> = {};
    for (const k of o.outputs ?? ["logits"]) {
      if (k === "logits") outputs.logits = out.logits;
      else if (k === "last_hidden_state") outputs.last_hidden_state = out.lastHiddenState;
      else outputs.loss = out.loss!;
    }
    return { graph: g, inputs: [...g.inputs], outputs };
  });
}

/**
 * A compiled eval-mode forward: evaluation, prediction and the `forward` command run this.
 *
 * @example
 * const runner = await ForwardRunner.compile(model, { tokenTypes: familyOf(model.config).tokenTypes });
 * const { logits } = await runner.run((await tokenizer.encodeBatch(["a text", "another one"])).tensors());
 * await runner.release();
 */
export class ForwardRunner {
  private constructor(private readonly model: TaskModel, private readonly compiled: CompiledGraph) {}

  static async compile(model: TaskModel, o: ForwardOptions): Promise<ForwardRunner> {
    const { graph, outputs } = traceForward(model, o);
    return new ForwardRunner(model, await CompiledGraph.compile(graph, outputs, { threads: o.threads, name: "forward" }));
  }

  /** Run on a batch; parameters are read from the model's current buffers. */
  async run(batch: Record<string, NDArray>): Promise<Record<string, NDArray>> {
    const feeds: Record<string, NDArray> = { ...batch };
    for (const [name, p] of this.model.namedParameters()) feeds[name] = { dtype: "float32", shape: [...p.shape], data: p.data };
    return this.compiled.run(feeds);
  }

  get inputNames(): readonly string[] {
    return this.compiled.inputNames;
  }

  async release(): Promise<void> {
    await this.compiled.release();
  }
}
