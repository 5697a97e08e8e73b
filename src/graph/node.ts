import type { OpDef } from "./op.js";
import type { Tensor } from "./tensor.js";

/** One op application in a traced graph. */
export interface Node {
  readonly id: number;
  readonly op: OpDef<any>;
  readonly inputs: readonly Tensor[];
  readonly attrs: any;
  outputs: Tensor[];
  /** Module path at trace time ("bert.encoder.layer.0.attention"), for error messages. */
  readonly scope: string;
}
