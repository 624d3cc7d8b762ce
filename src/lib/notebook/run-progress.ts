/**
 * The progress line of a whole `npm run reproduce`: notebook k of n, elapsed time, and an estimate of the
 * time left from each notebook's last measured duration in this profile (out/timings.json, git-ignored),
 * or from the mean of the notebooks measured so far when a notebook has no record yet.
 */
import * as fs from 'node:fs';
import { writeJsonAtomic } from '../util/atomic';
import { fmtSecs } from '../util/progress';
import type { Profile } from './env';

export type Timings = Partial<Record<Profile, Record<string, number>>>;

/** The recorded durations (seconds) of `profile`, {} when there is no readable record. */
export function readTimings(file: string, profile: Profile): Record<string, number> {
  try {
    const all = JSON.parse(fs.readFileSync(file, 'utf8')) as Timings;
    const mine = all[profile] ?? {};
    return Object.fromEntries(Object.entries(mine).filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v >= 0));
  } catch {
    return {};
  }
}

/** Records `seconds` as the duration of notebook `name` in `profile` (atomically; other entries kept). */
export function recordTiming(file: string, profile: Profile, name: string, seconds: number): void {
  let all: Timings = {};
  try {
    all = JSON.parse(fs.readFileSync(file, 'utf8')) as Timings;
  } catch {
    // no record yet
  }
  writeJsonAtomic(file, { ...all, [profile]: { ...(all[profile] ?? {}), [name]: Math.round(seconds * 10) / 10 } });
}

export class RunProgress {
  private readonly started: number;
  private current = -1;
  private currentStart = 0;
  private readonly measured = new Map<string, number>();

  constructor(
    private readonly names: readonly string[],
    /** Expected seconds per notebook name (last run's). */
    private readonly expected: Record<string, number>,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** Notebook `index` starts now. */
  begin(index: number): void {
    this.current = index;
    this.currentStart = this.now();
  }

  /** Notebook `index` took `seconds`. */
  end(index: number, seconds: number): void {
    this.measured.set(this.names[index], seconds);
  }

  private guess(name: string): number | null {
    if (name in this.expected) return this.expected[name];
    const known = [...this.measured.values()];
    return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
  }

  /** Seconds left: the rest of the current notebook and all later ones; null when nothing is known yet. */
  secondsLeft(): number | null {
    let left = 0;
    for (let i = Math.max(this.current, 0); i < this.names.length; i++) {
      const g = this.guess(this.names[i]);
      if (g === null) return null;
      left += i === this.current ? Math.max(g - (this.now() - this.currentStart) / 1000, 0) : g;
    }
    return left;
  }

  /** "notebook 3/12 (03-geodesic-interpolation) · 2m10s elapsed · about 9m40s left" */
  line(): string {
    const k = this.current + 1;
    const name = this.names[this.current] ?? '';
    const left = this.secondsLeft();
    const elapsed = fmtSecs((this.now() - this.started) / 1000);
    return `notebook ${k}/${this.names.length} (${name}) · ${elapsed} elapsed · ${left === null ? 'time left: estimated after the first notebook' : `about ${fmtSecs(left)} left`}`;
  }
}
