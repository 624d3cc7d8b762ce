/**
 * Command-line options, declared once per command: the declaration gives the parser, the typed values
 * and the --help text, so they cannot drift apart. Errors are InputErrors naming the option, which the
 * dispatcher prints on one line.
 */
import { InputError } from '../lib/util/errors';

export const PROGRAM = 'latent-geometry';

export interface OptionSpec {
  kind: 'string' | 'int' | 'flag' | 'choice';
  description: string;
  /** The value's placeholder in the help, e.g. FILE or N. */
  valueName?: string;
  required?: boolean;
  default?: string | number;
  /** kind 'choice' only. */
  choices?: readonly string[];
  /** kind 'int' only: the smallest value accepted (default 1). */
  min?: number;
  /** kind 'int' only: the largest value accepted, or a function giving it with the reason, e.g. the cores. */
  max?: number | (() => { value: number; why: string });
}

export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<O extends OptionSpec> = O extends { kind: 'flag' }
  ? boolean
  : O extends { kind: 'int' }
    ? number
    : O extends { kind: 'choice'; choices: readonly (infer C)[] }
      ? C
      : string;

/** Parsed values: required options, options with a default and flags are always present. */
export type ParsedOptions<S extends OptionSpecs> = {
  [K in keyof S]: S[K] extends { required: true } | { default: string | number } | { kind: 'flag' } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/** What the dispatcher (main.ts) knows of a command. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full --help text. */
  help: string;
  /** Runs with the arguments after the command name; throws InputError on bad input. */
  run(argv: string[]): Promise<void>;
}

export interface CommandDefinition<S extends OptionSpecs> {
  name: string;
  summary: string;
  /** A paragraph or two for --help, after the usage line. */
  description: string;
  options: S;
  examples: string[];
  run(opts: ParsedOptions<S>): Promise<void>;
}

/** A Command from a declaration: run() parses the options, help is generated from them. */
export function defineCommand<const S extends OptionSpecs>(def: CommandDefinition<S>): Command {
  return {
    name: def.name,
    summary: def.summary,
    help: formatHelp(def),
    // async, so that a bad option rejects like any other input error rather than throwing synchronously.
    run: async (argv) => def.run(parseOptions(def.name, def.options, argv)),
  };
}

/** True when the arguments ask for help (the dispatcher answers before parsing anything else). */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** Parses `--name value`, `--name=value` and `--flag`; anything else is an error naming the argument. */
export function parseOptions<S extends OptionSpecs>(command: string, specs: S, argv: readonly string[]): ParsedOptions<S> {
  const seeHelp = `see ${PROGRAM} ${command} --help`;
  const given = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') || arg === '--') throw new InputError(arg, `unexpected argument; options start with -- (${seeHelp})`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (!spec) throw new InputError(`--${name}`, `unknown option; expected one of ${Object.keys(specs).map((k) => `--${k}`).join(', ')} (${seeHelp})`);
    if (given.has(name)) throw new InputError(`--${name}`, 'given more than once');
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new InputError(`--${name}`, 'takes no value');
      given.set(name, true);
    } else if (eq >= 0) {
      given.set(name, arg.slice(eq + 1));
    } else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new InputError(`--${name}`, `expected a value (${placeholder(spec)})`);
      given.set(name, value);
      i++;
    }
  }
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = given.get(name);
    if (raw === undefined) {
      if (spec.required) throw new InputError(`--${name}`, `missing; expected ${placeholder(spec)} (${seeHelp})`);
      out[name] = spec.kind === 'flag' ? false : spec.default;
    } else {
      out[name] = raw === true ? true : convert(name, spec, raw);
    }
  }
  return out as ParsedOptions<S>;
}

function convert(name: string, spec: OptionSpec, raw: string): string | number {
  switch (spec.kind) {
    case 'int': {
      if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
        throw new InputError(`--${name}`, `expected a positive integer, got ${JSON.stringify(raw)}`);
      }
      const n = Number(raw);
      if (spec.min !== undefined && n < spec.min) throw new InputError(`--${name}`, `expected at least ${spec.min}, got ${n}`);
      const max = typeof spec.max === 'function' ? spec.max() : spec.max === undefined ? undefined : { value: spec.max, why: '' };
      if (max && n > max.value) throw new InputError(`--${name}`, `expected at most ${max.value}${max.why ? ` (${max.why})` : ''}, got ${n}`);
      return n;
    }
    case 'choice':
      if (!spec.choices?.includes(raw)) throw new InputError(`--${name}`, `expected one of ${spec.choices?.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    default:
      if (raw === '') throw new InputError(`--${name}`, `expected ${placeholder(spec)}, got an empty string`);
      return raw;
  }
}

function placeholder(spec: OptionSpec): string {
  if (spec.kind === 'choice') return spec.choices?.join('|') ?? '';
  return spec.valueName ?? (spec.kind === 'int' ? 'N' : 'VALUE');
}

function optionSynopsis(name: string, spec: OptionSpec): string {
  return spec.kind === 'flag' ? `--${name}` : `--${name} ${placeholder(spec)}`;
}

/** Usage, description, options with defaults, examples. */
export function formatHelp<S extends OptionSpecs>(def: Pick<CommandDefinition<S>, 'name' | 'description' | 'options' | 'examples'>): string {
  const entries = Object.entries(def.options);
  const required = entries.filter(([, s]) => s.required).map(([n, s]) => optionSynopsis(n, s));
  const usage = `Usage: ${PROGRAM} ${def.name} ${[...required, entries.some(([, s]) => !s.required) ? '[options]' : ''].join(' ')}`.trimEnd();
  const rows = entries.map(([n, s]): [string, string] => {
    const range = s.kind === 'int' && typeof s.max === 'number' ? `${s.min ?? 1}..${s.max}` : s.kind === 'int' && s.min !== undefined ? `at least ${s.min}` : '';
    const notes = [s.required ? 'required' : '', range, s.default !== undefined ? `default: ${s.default}` : ''].filter(Boolean);
    return [optionSynopsis(n, s), s.description + (notes.length ? ` (${notes.join('; ')})` : '')];
  });
  rows.push(['-h, --help', 'show this help']);
  return [usage, '', def.description, '', 'Options:', ...table(rows), '', 'Examples:', ...def.examples.map((e) => `  ${e}`), ''].join('\n');
}

/** Two aligned columns, indented. */
export function table(rows: [string, string][]): string[] {
  const w = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`);
}
