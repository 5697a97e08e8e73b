/**
 * Every op family, so that importing this registers every primitive (autodiff looks up Add by
 * name). Models import the families they use directly; this is for tools that need them all.
 */
export * from "./activation.js";
export * from "./broadcast.js";
export * from "./dropout.js";
export * from "./elementwise.js";
export * from "./gather.js";
export * from "./layernorm.js";
export * from "./layout.js";
export * from "./loss.js";
export * from "./matmul.js";
export * from "./reduce.js";
export * from "./softmax.js";
export * from "./cumsum.js";
