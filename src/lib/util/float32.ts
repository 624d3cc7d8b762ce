/**
 * What float32 can hold. JSON numbers are float64, but weights, points and parameters are computed in
 * float32 tensors: 1e39 is finite in JSON and infinite in float32, and 1e-300 is positive in JSON and 0
 * in float32. Inputs are checked against these bounds where they enter, so the error names the field
 * instead of a null appearing in the results.
 */

/** The largest finite float32 (2^128 - 2^104). */
export const FLOAT32_MAX = 3.4028234663852886e38;
/** The smallest positive normal float32 (2^-126); below it values are subnormal (flushed to 0 by some kernels) or 0. */
export const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/** Why `x` is not a finite number that float32 holds, or null when it is. */
export function float32Problem(x: unknown): string | null {
  if (typeof x !== 'number' || !Number.isFinite(x)) return 'expected a finite number';
  if (Math.abs(x) > FLOAT32_MAX) return `expected a number within float32 range (|x| <= ${FLOAT32_MAX}; larger is infinite in float32)`;
  return null;
}

/**
 * Why `x` is not a positive number that float32 holds as a normal number, or null when it is: a parameter
 * that must be > 0 (a softplus beta, an RBF bandwidth, zeta) must not underflow to 0 or lose its precision.
 */
export function positiveFloat32Problem(x: unknown): string | null {
  const range = float32Problem(x);
  if (range) return range;
  if (!((x as number) >= FLOAT32_MIN_NORMAL)) return `expected a number > 0 that float32 holds (>= ${FLOAT32_MIN_NORMAL}; smaller underflows to 0)`;
  return null;
}
