/** Notebook 08's pieces on cases with known answers: a flat metric's geodesic is the straight line. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { decoderFromJson } from '../src/lib/io/decoder-json';
import { expectedMetric } from '../src/lib/geometry/decoder-metric';
import { compareGeodesic, fashionSettings, typicalCode } from '../src/lib/pipelines/fashion-study';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

test('under a linear decoder the geodesic is the straight line: length ratio 1, the same frames', async () => {
  const { decoder } = decoderFromJson({
    format: 'decoder-json/v1',
    latent_dim: 2,
    output_dim: 3,
    mean_net: { layers: [{ kind: 'linear', weight: [[2, 0], [0, 1], [1, 1]], bias: [0, 0, 0] }] },
  });
  const codes = new Rng(2).normals(400 * 2).map((v) => 2 * v);
  const p0 = Float64Array.of(-1.5, -1);
  const p1 = Float64Array.of(1.2, 1.6);
  const settings = { ...fashionSettings('quick'), geodesicPoints: 12, frames: 6 };
  const g = await expectNoLeak(() => compareGeodesic(expectedMetric(decoder), decoder, codes, p0, p1, settings));
  // |A (p1 - p0)| with A^T A = [[5, 1], [1, 2]] and p1 - p0 = (2.7, 2.6).
  const exact = Math.sqrt(5 * 2.7 ** 2 + 2 * 2.7 * 2.6 + 2 * 2.6 ** 2);
  assert.ok(Math.abs(g.lineLength - exact) < 1e-4 * exact, `line ${g.lineLength} vs ${exact}`);
  assert.ok(Math.abs(g.geodesicLength / g.lineLength - 1) < 1e-4, `ratio ${g.geodesicLength / g.lineLength}`);
  assert.ok(g.converged);
  assert.equal(g.geodesicFrames.length, 6 * 3);
  g.geodesicFrames.forEach((v, i) => assert.ok(Math.abs(v - g.lineFrames[i]) < 1e-3, `frame value ${i}: ${v} vs ${g.lineFrames[i]}`));
  assert.deepEqual(Array.from(g.geodesic.data.subarray(0, 2)), Array.from(p0), 'the geodesic starts exactly at p0');
  decoder.dispose();
});

test('typicalCode picks the code of a class nearest its median code', () => {
  const codes = Float32Array.of(0, 0, 10, 10, 1, 1, 2, 2, 50, 50, 3, 3);
  const labels = Int32Array.of(7, 1, 7, 7, 1, 7);
  // Class 7: x and y medians are 2 (of 0, 1, 2, 3), so the code (2, 2).
  assert.deepEqual(Array.from(typicalCode(codes, labels, 7)), [2, 2]);
  assert.deepEqual(Array.from(typicalCode(codes, labels, 1)), [50, 50]);
});
