/**
 * Progress for long work. In a terminal: a bar redrawn in place with rate and ETA. In Jupyter (tslab)
 * a carriage-return line, which the notebook front-ends redraw in place too. Elsewhere (CI logs, pipes):
 * a plain line at every tenth of the way, so logs stay short. `LSO_PROGRESS=0` silences it.
 */
export interface ProgressOptions {
  /** Written before the bar, e.g. "train VAE". */
  label: string;
  total: number;
  /** Unit shown with the rate, e.g. "epoch". */
  unit?: string;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Forces a mode (tests use it). */
  mode?: ProgressMode;
}

export type ProgressMode = 'bar' | 'line' | 'log' | 'off';

export function detectProgressMode(stream: { isTTY?: boolean } = process.stderr): ProgressMode {
  if (process.env.LSO_PROGRESS === '0') return 'off';
  if (stream.isTTY) return 'bar';
  if (isInNotebook()) return 'line';
  return 'log';
}

/** True inside a tslab (Jupyter) kernel. */
export function isInNotebook(): boolean {
  return process.env.LSO_IN_NOTEBOOK === '1' || typeof (globalThis as Record<string, unknown>).$$ === 'object';
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private lastLoggedTenth = -1;
  private readonly mode: ProgressMode;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private extra = '';

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? (isInNotebook() ? process.stdout : process.stderr);
    this.mode = opts.mode ?? detectProgressMode(this.stream);
  }

  /** Advances by `n` and sets a short status such as "loss 123.4". */
  tick(n = 1, status?: string): void {
    this.done = Math.min(this.opts.total, this.done + n);
    if (status !== undefined) this.extra = status;
    this.draw(false);
  }

  /** Ends the bar (a final newline); a no-op when nothing was shown. */
  finish(status?: string): void {
    if (status !== undefined) this.extra = status;
    this.draw(true);
  }

  /** Seconds since the bar was created. */
  elapsed(): number {
    return (Date.now() - this.start) / 1000;
  }

  private draw(final: boolean): void {
    if (this.mode === 'off') return;
    const now = Date.now();
    const frac = this.opts.total > 0 ? this.done / this.opts.total : 1;
    if (this.mode === 'log') {
      const tenth = Math.floor(frac * 10);
      if (!final && tenth === this.lastLoggedTenth) return;
      if (final && this.lastLoggedTenth === 10) return;
      this.lastLoggedTenth = final ? 10 : tenth;
      this.stream.write(this.text(frac) + '\n');
      return;
    }
    if (!final && now - this.lastDraw < 100 && this.done < this.opts.total) return;
    this.lastDraw = now;
    this.stream.write('\r' + this.text(frac) + (final ? '\n' : ''));
  }

  private text(frac: number): string {
    const secs = this.elapsed();
    const rate = secs > 0 ? this.done / secs : 0;
    const eta = rate > 0 ? (this.opts.total - this.done) / rate : 0;
    const unit = this.opts.unit ?? 'it';
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const pct = (frac * 100).toFixed(0).padStart(3);
    const tail = this.extra ? `  ${this.extra}` : '';
    return `${this.opts.label} [${bar}] ${pct}% ${this.done}/${this.opts.total} ${unit} ${fmtSecs(secs)}<${fmtSecs(eta)}${tail}`;
  }
}

export function fmtSecs(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s - 60 * m)
    .toString()
    .padStart(2, '0')}s`;
}
