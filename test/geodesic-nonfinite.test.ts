/**
 * A metric that is NaN or infinite along a curve is a failure, never a converged straight line (issue 16):
 * the solver flags the curve converged: false with FAILURE_NON_FINITE, the distance matrix counts it as
 * unconverged, and the CLI's JSON says why.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Metric, PullbackMetric } from '../src/lib/geometry/metric';
import { gramFromTangents } from '../src/lib/geometry/metric';
import { FAILURE_NON_FINITE, connectingGeodesics } from '../src/lib/geometry/geodesics';
import { geodesicDistanceMatrix } from '../src/lib/geometry/distances';
import { geodesicsCommand } from '../src/cli/commands/geodesics';
import { expectNoLeak, setupBackend } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lso-nonfinite-'));

before(async () => {
  process.env.LSO_QUIET = '1';
  await setupBackend();
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** f(z) = (z_1, z_2, log z_1): a smooth pull-back for z_1 > 0, NaN for z_1 < 0. */
const logPullback: PullbackMetric = {
  dim: 2,
  embed: (z) => tf.tidy(() => tf.concat([z, tf.log(tf.slice(z, [0, 0], [-1, 1]))], 1) as tf.Tensor2D),
  tangentBlocks: (z) => [
    tf.tidy(() => {
      const b = z.shape[0];
      const [one, zero] = [tf.ones([b, 1]), tf.zeros([b, 1])];
      const row0 = tf.concat([one, zero, tf.reciprocal(tf.slice(z, [0, 0], [-1, 1]))], 1);
      const row1 = tf.concat([zero, one, zero], 1);
      return tf.stack([row0, row1], 1) as tf.Tensor3D;
    }),
  ],
  tensor(z) {
    return tf.tidy(() => gramFromTangents(this.tangentBlocks(z)));
  },
};

/** A (non-pull-back) metric that is NaN everywhere. */
const nanMetric: Metric = { dim: 2, tensor: (z) => tf.fill([z.shape[0], 2, 2], NaN) as tf.Tensor3D };

test('a pull-back NaN along one curve: that curve fails with the reason, the other converges', async () => {
  const res = await expectNoLeak(() => connectingGeodesics(logPullback, [[0.5, 0], [-1, 0]], [[1.5, 1], [1, 0]], { points: 8 }));
  assert.deepEqual(res.converged, [true, false]);
  assert.deepEqual(res.failures, [null, FAILURE_NON_FINITE]);
  assert.ok(Number.isFinite(res.lengths[0]) && res.lengths[0] > Math.hypot(1, 1), `length ${res.lengths[0]}`);
});

test('a metric NaN everywhere (finite-difference model): no curve is reported converged', async () => {
  const res = await expectNoLeak(() => connectingGeodesics(nanMetric, [[0, 0], [1, 1]], [[1, 0], [2, 3]], { points: 6 }));
  assert.deepEqual(res.converged, [false, false]);
  assert.deepEqual(res.failures, [FAILURE_NON_FINITE, FAILURE_NON_FINITE]);
});

test('geodesicDistanceMatrix counts pairs through a NaN metric as unconverged', async () => {
  const res = await expectNoLeak(() => geodesicDistanceMatrix(logPullback, [[0.5, 0], [1.5, 1], [-1, 0]], { points: 8, progress: false }));
  assert.equal(res.unconverged, 2);
  assert.equal(res.converged[0 * 3 + 1], 1);
  assert.equal(res.converged[0 * 3 + 2], 0);
  assert.equal(res.converged[1 * 3 + 2], 0);
});

test('the CLI reports a curve whose metric overflows float32 as converged: false with the reason', async () => {
  // Weights within float32, but f(z) = 3e38 (z_1 + z_2) is infinite at (1, 1): the energy is NaN there.
  const decoder = path.join(dir, 'overflow.json');
  fs.writeFileSync(
    decoder,
    JSON.stringify({ format: 'decoder-json/v1', latent_dim: 2, output_dim: 1, mean_net: { layers: [{ kind: 'linear', weight: [[3e38, 3e38]], bias: [0] }] } }),
  );
  const pairs = path.join(dir, 'pairs.json');
  fs.writeFileSync(pairs, JSON.stringify({ p0: [[1, 1], [0.1, 0]], p1: [[2, 2], [0.2, 0.1]] }));
  const out = path.join(dir, 'out.json');
  await geodesicsCommand.run(['--decoder', decoder, '--pairs', pairs, '--out', out, '--points', '5']);
  const res = JSON.parse(fs.readFileSync(out, 'utf8')) as { converged: boolean[]; failures: (string | null)[]; lengths: (number | null)[] };
  assert.deepEqual(res.converged, [false, true]);
  assert.deepEqual(res.failures, [FAILURE_NON_FINITE, null]);
  assert.equal(res.lengths[0], null);
});
