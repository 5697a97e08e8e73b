/**
 * Base class of every error whet raises on purpose: the message says what was being done and where.
 *
 * @example
 * try {
 *   await finetune(resolveRunSpec({ model: "prajjwal1/bert-mini", train_file: "train.csv", output_dir: "runs/a" }));
 * } catch (e) {
 *   if (e instanceof UsageError) console.error(`fix the options: ${e.message}`); // what whet exits 2 for
 *   else if (e instanceof NonFiniteError) console.error("the loss diverged: lower learning_rate");
 *   else if (e instanceof ShapeError) console.error(`a model or op was given the wrong shapes: ${e.message}`);
 *   else if (e instanceof WhetError) console.error(e.message); // a bad file, a missing model…
 *   else throw e;
 * }
 */
export class WhetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor shape or dtype did not fit an op at trace time. */
export class ShapeError extends WhetError {}

/** Training produced a NaN or infinite loss. */
export class NonFiniteError extends WhetError {}

/**
 * The user asked for something invalid (an option's value, a combination of options): the
 * command line exits with code 2, as for an unknown flag.
 */
export class UsageError extends WhetError {}
