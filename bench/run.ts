/**
 * Benchmarks: `npm run bench -- [names...] [--json] [--out FILE]`.
 *
 * Each case is a module in bench/cases/ exporting `benchCase` (see BenchCase); the folder is read, so a
 * new case needs no registration. The harness runs the named cases (all without names) one after the
 * other, and around each one records the peak memory and checks that tf.memory().numTensors is back where
 * it started (a leak is flagged and fails the run, as is an error). Values are "lower is better" against
 * the optional target; being over target is reported, not failed, since timings vary with the machine.
 * The rows go to bench/results.json (atomically) as [{name, value, unit, detail}].
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/lib/runtime/backend';
import { closeSharedPool } from '../src/lib/runtime/pool';
import { writeJsonAtomic } from '../src/lib/util/atomic';

export interface BenchCase {
  name: string;
  /** Unit of `value`, e.g. 's'. */
  unit: string;
  /** The value to stay at or under. */
  target?: number;
  run(): Promise<{ value: number; detail?: Record<string, unknown> }>;
}

export type BenchStatus = 'ok' | 'over target' | 'leak' | 'error';

export interface BenchRow {
  name: string;
  /** null when the case failed (JSON has no NaN). */
  value: number | null;
  unit: string;
  detail: {
    target: number | null;
    status: BenchStatus;
    /** Wall time of the whole case, set-up and repeats included. */
    wallSeconds: number;
    peakRssBytes: number;
    peakHeapUsedBytes: number;
    peakTfBytes: number;
    numTensorsBefore: number;
    numTensorsAfter: number;
    backend: string;
    error?: string;
    [caseSpecific: string]: unknown;
  };
}

export const CASES_DIR = path.join(__dirname, 'cases');
export const RESULTS_FILE = path.join(__dirname, 'results.json');

/** The cases in `dir` (every .ts/.js module there must export `benchCase`), sorted by name. */
export function discoverCases(dir: string = CASES_DIR): BenchCase[] {
  const files = fs.readdirSync(dir).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'));
  const cases = files.map((f) => {
    const file = path.join(dir, f);
    const mod = require(file) as { benchCase?: unknown };
    if (!isBenchCase(mod.benchCase)) throw new Error(`${file}: expected an export benchCase {name, unit, target?, run()}`);
    return mod.benchCase;
  });
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.name)) throw new Error(`bench: two cases are named ${c.name}`);
    seen.add(c.name);
  }
  return cases.sort((a, b) => a.name.localeCompare(b.name));
}

function isBenchCase(x: unknown): x is BenchCase {
  const c = x as BenchCase;
  return typeof c === 'object' && c !== null && typeof c.name === 'string' && typeof c.unit === 'string' && typeof c.run === 'function';
}

/**
 * Peak memory while a case runs. Samples process.memoryUsage() and tf.memory() on a timer, which only
 * fires while the case awaits, so on Linux the kernel's own high-water mark of the resident set (VmHWM,
 * reset through /proc/self/clear_refs) is read as well: it also sees peaks inside synchronous tfjs work.
 */
export class MemorySampler {
  peakRss = 0;
  peakHeapUsed = 0;
  peakTfBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private hwmReset = false;

  start(intervalMs = 10): void {
    this.hwmReset = resetRssHighWaterMark();
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const hwm = this.hwmReset ? rssHighWaterMark() : null;
    if (hwm !== null) this.peakRss = Math.max(this.peakRss, hwm);
  }

  private sample(): void {
    const m = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.peakHeapUsed = Math.max(this.peakHeapUsed, m.heapUsed);
    this.peakTfBytes = Math.max(this.peakTfBytes, tf.memory().numBytes);
  }
}

function resetRssHighWaterMark(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function rssHighWaterMark(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Runs one case with the memory and leak checks; never throws (a failure is a row with status 'error'). */
export async function runCase(c: BenchCase): Promise<BenchRow> {
  const backend = (await initBackend()).name;
  const before = tf.memory().numTensors;
  const sampler = new MemorySampler();
  sampler.start();
  const t0 = performance.now();
  let value: number | null = null;
  let caseDetail: Record<string, unknown> = {};
  let error: string | undefined;
  try {
    const r = await c.run();
    value = Number.isFinite(r.value) ? r.value : null;
    caseDetail = r.detail ?? {};
    if (value === null) error = `the case returned a non-finite value (${r.value})`;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  sampler.stop();
  const after = tf.memory().numTensors;
  const target = c.target ?? null;
  const status: BenchStatus = error ? 'error' : after !== before ? 'leak' : target !== null && value! > target ? 'over target' : 'ok';
  return {
    name: c.name,
    value,
    unit: c.unit,
    detail: {
      ...caseDetail,
      target,
      status,
      wallSeconds,
      peakRssBytes: sampler.peakRss,
      peakHeapUsedBytes: sampler.peakHeapUsed,
      peakTfBytes: sampler.peakTfBytes,
      numTensorsBefore: before,
      numTensorsAfter: after,
      backend,
      ...(error ? { error } : {}),
    },
  };
}

/** The rows as a text table. */
export function formatTable(rows: BenchRow[]): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  const num = (v: number | null) => (v === null ? '-' : v.toPrecision(3));
  const header = ['name', 'value', 'unit', 'target', 'status', 'peak RSS', 'peak tfjs'];
  const body = rows.map((r) => [
    r.name,
    num(r.value),
    r.unit,
    r.detail.target === null ? '-' : `<= ${r.detail.target}`,
    r.detail.status + (r.detail.status === 'leak' ? ` (${r.detail.numTensorsAfter - r.detail.numTensorsBefore} tensors)` : ''),
    mb(r.detail.peakRssBytes),
    mb(r.detail.peakTfBytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const errors = rows.filter((r) => r.detail.error).map((r) => `${r.name}: ${r.detail.error}`);
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...errors].join('\n') + '\n';
}

const HELP = `Usage: npm run bench -- [names...] [options]

Runs the benchmark cases in bench/cases/ (all of them without names), prints a table and writes the rows
to bench/results.json as [{"name", "value", "unit", "detail"}]. Exits 1 when a case fails or leaks tensors.

Options:
  --json        print the results JSON instead of the table
  --out FILE    write the results here instead of bench/results.json
  --list        list the cases and exit
  -h, --help    show this help

Environment: LSO_THREADS sets the threads of the parallel cases (1: none), LSO_BACKEND the tfjs backend.

Example:
  npm run bench -- metric-grid-100
`;

interface BenchArgs {
  names: string[];
  json: boolean;
  list: boolean;
  help: boolean;
  out: string;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { names: [], json: false, list: false, help: false, out: RESULTS_FILE };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--list') args.list = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--out') {
      const v = argv[++i];
      if (!v) throw new Error('--out: expected a file name');
      args.out = v;
    } else if (a.startsWith('-')) throw new Error(`${a}: unknown option (see npm run bench -- --help)`);
    else args.names.push(a);
  }
  return args;
}

/** The cases named (all when none), or an error listing the known ones. */
export function selectCases(all: BenchCase[], names: string[]): BenchCase[] {
  if (names.length === 0) return all;
  const unknown = names.filter((n) => !all.some((c) => c.name === n));
  if (unknown.length) throw new Error(`unknown case${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the cases are: ${all.map((c) => c.name).join(', ')}`);
  return names.map((n) => all.find((c) => c.name === n)!);
}

async function main(argv: string[]): Promise<number> {
  let args: BenchArgs;
  let cases: BenchCase[];
  try {
    args = parseBenchArgs(argv);
    if (args.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const all = discoverCases();
    if (args.list) {
      process.stdout.write(all.map((c) => `${c.name} (${c.unit}${c.target !== undefined ? `, target <= ${c.target}` : ''})`).join('\n') + '\n');
      return 0;
    }
    cases = selectCases(all, args.names);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const rows: BenchRow[] = [];
  for (const c of cases) {
    if (!args.json) process.stderr.write(`bench: ${c.name} ...\n`);
    rows.push(await runCase(c));
  }
  await closeSharedPool();
  writeJsonAtomic(args.out, rows);
  process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows));
  if (!args.json) process.stderr.write(`bench: wrote ${path.relative(process.cwd(), args.out) || args.out} (${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)})\n`);
  return rows.some((r) => r.detail.status === 'error' || r.detail.status === 'leak') ? 1 : 0;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
