/** Base class of every error whet raises on purpose: the message says what was being done and where. */
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
