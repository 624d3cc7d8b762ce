#!/usr/bin/env node
/**
 * latent-geometry <command> [options]: a small dispatcher over the registry in commands/index.ts.
 *
 * Every failure ends as one line on stderr and a non-zero exit code (2 for bad input or usage, 1 for
 * anything else), never a stack trace (LSO_DEBUG=1 adds it). Errors must not escape as unhandled
 * rejections: tfjs-wasm installs handlers that would rethrow them with its whole minified source.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, PROGRAM, table, wantsHelp } from './args';
import { COMMANDS } from './commands';
import { InputError, printable } from '../lib/util/errors';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function topLevelHelp(commands: readonly Command[] = COMMANDS): string {
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    "The Riemannian geometry of deep generative models' latent spaces.",
    '',
    'Commands:',
    ...table(commands.map((c) => [c.name, c.summary])),
    '',
    'Options:',
    ...table([
      ['-h, --help', 'show this help'],
      ['--version', 'show the version'],
    ]),
    '',
    `Run '${PROGRAM} <command> --help' for a command's options.`,
    '',
    'Environment: LSO_BACKEND forces a tfjs backend (tensorflow-gpu, tensorflow, wasm, cpu); LSO_THREADS sets the',
    'threads for large point sets (1: no worker threads); LSO_QUIET=1 drops the backend line; LSO_DEBUG=1 adds stacks.',
    '',
    'Example:',
    `  ${PROGRAM} metric --decoder decoder.json --points points.json --out metric.json`,
    '',
  ].join('\n');
}

/** Runs one command line; resolves to the exit code. Output goes to process.stdout / stderr. */
export async function main(argv: readonly string[], commands: readonly Command[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === '--help' || name === '-h' || name === 'help') {
      const cmd = name === 'help' && rest[0] ? findCommand(commands, rest[0]) : null;
      process.stdout.write(cmd ? cmd.help : topLevelHelp(commands));
      return 0;
    }
    if (name === '--version') {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    if (name === undefined) throw new InputError('command', `missing; expected one of ${names(commands)} (see ${PROGRAM} --help)`);
    const cmd = findCommand(commands, name);
    if (wantsHelp(rest)) {
      process.stdout.write(cmd.help);
      return 0;
    }
    await cmd.run(rest);
    return 0;
  } catch (err) {
    process.stderr.write(`${errorLine(err)}\n`);
    if (process.env.LSO_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof InputError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

function findCommand(commands: readonly Command[], name: string): Command {
  const cmd = commands.find((c) => c.name === name);
  if (cmd) return cmd;
  const what = name.startsWith('-') ? 'unknown option; the command comes first:' : 'unknown command;';
  throw new InputError(name, `${what} expected one of ${names(commands)} (see ${PROGRAM} --help)`);
}

function names(commands: readonly Command[]): string {
  return commands.map((c) => c.name).join(', ');
}

/** `latent-geometry: <message>` on one line, whatever the error. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // One line, and no control characters from file names or contents reach the terminal.
  const oneLine = printable(message.replace(/\s*\n\s*/g, ' ').trim()) || (err instanceof Error ? err.name : 'unknown error');
  return err instanceof InputError ? `${PROGRAM}: ${oneLine}` : `${PROGRAM}: error: ${oneLine}`;
}

function version(): string {
  // Two levels up from both src/cli and dist/cli.
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
  return `${PROGRAM} ${pkg.version ?? 'unknown'}`;
}

if (require.main === module) {
  // A closed pipe (`... | head`) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
