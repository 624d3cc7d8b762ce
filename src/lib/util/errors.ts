/**
 * An error in what the user gave us (a file, a field, an argument). The message names the place and what
 * was expected; the CLI prints it on one line and exits non-zero.
 */
export class InputError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
    this.name = 'InputError';
  }
}

/** Throws an InputError unless `cond` holds. */
export function expectInput(cond: unknown, where: string, problem: string): asserts cond {
  if (!cond) throw new InputError(where, problem);
}

/** Checks a positive integer option, naming it when it is not one. */
export function positiveInt(value: unknown, where: string): number {
  expectInput(
    typeof value === 'number' && Number.isInteger(value) && value > 0,
    where,
    `expected a positive integer, got ${JSON.stringify(value)}`,
  );
  return value as number;
}
