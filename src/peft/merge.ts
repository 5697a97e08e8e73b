// merge_and_unload for LoRA and IA3: fold each adapter into its base Linear and unwrap it, leaving
// a plain model whose parameters carry the base model's names (modules_to_save copies included).
import { WhetError } from "../core/errors.js";
import type { Module } from "../nn/module.js";
import type { AppliedAdapter } from "./apply.js";
import { IA3Hook } from "./ia3.js";
import { LoraHook } from "./lora.js";

/**
 * Merge the adapter into `model` in place; afterwards every parameter is trainable again and
 * `saveModel` writes a plain Hugging Face checkpoint.
 *
 * @example
 * mergeAdapter(model, adapter);
 * await saveModel(model, "merged");
 */
export function mergeAdapter(model: Module, a: AppliedAdapter): void {
  const type = a.settings.peft_type;
  if (type === "BOTTLENECK") {
    throw new WhetError("merging: a bottleneck adapter is non-linear (down-projection, activation, up-projection, "
      + "residual) and cannot be folded into the base's weights; only LoRA and IA3 merge. "
      + "Use it with --adapter (evaluate, predict, export)");
  }
  if (type !== "LORA" && type !== "IA3") {
    throw new WhetError(`merging: ${type} adds virtual tokens, not weights, and cannot be folded into the base `
      + "(only LoRA and IA3 merge); use it with --adapter (evaluate, predict, export)");
  }
  for (const w of a.wrapped) {
    if (w.hook instanceof LoraHook) {
      w.linear.weight.data = w.hook.mergedWeight(w.linear);
      w.linear.detach("lora_A");
      w.linear.detach("lora_B");
    } else if (w.hook instanceof IA3Hook) {
      const m = w.hook.merged(w.linear);
      w.linear.weight.data = m.weight;
      if (w.linear.bias && m.bias) w.linear.bias.data = m.bias;
      w.linear.detach("ia3_l");
    }
    w.linear.hook = null;
  }
  a.wrapped.length = 0;
  a.tensors.clear();
  for (const p of model.parameters()) p.requiresGrad = true;
}
