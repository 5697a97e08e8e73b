/**
 * Element types. float64 exists for the reference interpreter and gradient checks; compiled
 * graphs use float32, int64 (ids, labels) and bool (masks).
 */
export type DType = "float32" | "float64" | "int64" | "bool";

/** TensorProto.DataType numbers from onnx.proto. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, float64: 11, int64: 7, bool: 9 };

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float64";
}
