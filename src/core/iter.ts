// Loops instead of spreads: `Math.max(...xs)` and `arr.push(...xs)` pass every element as a call
// argument, and V8 overflows its stack somewhere past ~120k of them (xlm-roberta's vocabulary
// has 250,002 entries). Anything sized by the data goes through these.

/**
 * The largest of `values`, or `initial` when there are none (or all are smaller).
 *
 * @example
 * maxOf(vocab.values(), -1) + 1; // the next free id
 */
export function maxOf(values: Iterable<number>, initial = -Infinity): number {
  let m = initial;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** Appends every item of `items` to `target` and returns it (for any number of items). */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const x of items) target.push(x);
  return target;
}
