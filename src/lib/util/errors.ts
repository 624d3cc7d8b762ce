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

/**
 * `text` safe to print on a terminal on one line: C0 and C1 control characters (newlines, escape
 * sequences that would move the cursor or recolour the terminal, CSI U+009B) and the line separators
 * U+2028/9 are shown as \n, \t, \r or \u{...} escapes. Text from input files (a decoder's description,
 * a file name) goes through it before it is printed.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => {
    switch (ch) {
      case '\n':
        return '\\n';
      case '\t':
        return '\\t';
      case '\r':
        return '\\r';
      default:
        return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}
