/** The t quantile against tabulated values, and the paired t-interval on a hand-computed case. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedDifference, studentTQuantile } from '../src/lib/stats/paired';

test('Student t quantiles match the tables', () => {
  const table: [number, number, number][] = [[0.975, 1, 12.7062], [0.975, 4, 2.7764], [0.975, 9, 2.2622], [0.975, 30, 2.0423], [0.95, 5, 2.015]];
  for (const [p, df, want] of table) assert.ok(Math.abs(studentTQuantile(p, df) - want) < 2e-4, `t(${p}, ${df}) = ${studentTQuantile(p, df)}, table ${want}`);
  assert.throws(() => studentTQuantile(0.3, 4), /0.5 < p < 1/);
});

test('paired difference: mean, sd, t-interval, wins', () => {
  const r = pairedDifference([0.8, 0.7, 0.9, 0.85, 0.75], [0.85, 0.72, 0.95, 0.84, 0.8]);
  // differences 0.05, 0.02, 0.05, -0.01, 0.05: mean 0.032, sd 0.02683
  assert.ok(Math.abs(r.mean - 0.032) < 1e-12);
  assert.ok(Math.abs(r.sd - Math.sqrt(0.00288 / 4)) < 1e-12);
  const half = 2.7764 * (r.sd / Math.sqrt(5));
  assert.ok(Math.abs(r.ci95[0] - (0.032 - half)) < 1e-4 && Math.abs(r.ci95[1] - (0.032 + half)) < 1e-4, `${r.ci95}`);
  assert.equal(r.wins, 4);
  assert.equal(r.losses, 1);
  assert.throws(() => pairedDifference([1], [1, 2]), /equally long/);
});
