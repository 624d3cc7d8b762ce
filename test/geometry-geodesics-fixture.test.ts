/**
 * On the Latent Space Oddity authors' trained MNIST decoder (../shared/fixtures): geodesics between
 * latent codes converge and are no longer than the straight lines between them, from either start.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readDecoderJson } from '../src/lib/io/decoder-json';
import { expectedMetric } from '../src/lib/geometry/decoder-metric';
import { curveLengths, straightLines } from '../src/lib/geometry/curves';
import { connectingGeodesics } from '../src/lib/geometry/geodesics';
import { graphInitialCurves, latentGraph } from '../src/lib/geometry/graph';
import { kmeans } from '../src/lib/stats/kmeans';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, fixtureSkip, setupBackend, sharedFixture } from './helpers';

const DEC = 'lso-mnist-decoder.json';

before(setupBackend);

test('geodesics between latent codes are no longer than straight lines', { skip: fixtureSkip(DEC) }, async () => {
  const { decoder, latentCodes } = readDecoderJson(sharedFixture(DEC)!);
  const metric = expectedMetric(decoder);
  const codes = latentCodes!;
  const rng = new Rng(21);
  const pick = () => {
    const i = rng.int(codes.length / 2);
    return [codes[2 * i], codes[2 * i + 1]];
  };
  const n = 6;
  const p0 = Float64Array.from(Array.from({ length: n }, pick).flat());
  const p1 = Float64Array.from(Array.from({ length: n }, pick).flat());
  const line = curveLengths(metric, straightLines(p0, p1, 2, 2), { subdivisions: 256 });
  const fromLine = await expectNoLeak(() => connectingGeodesics(metric, p0, p1, { points: 32 }));
  const nodes = kmeans(codes, 2, 48, { seed: 0, restarts: 1 }).centers;
  const init = graphInitialCurves(metric, latentGraph(metric, nodes), p0, p1, 32);
  const fromGraph = connectingGeodesics(metric, p0, p1, { points: 32, init });
  for (let b = 0; b < n; b++) {
    for (const [name, res] of [['line start', fromLine], ['graph start', fromGraph]] as const) {
      assert.ok(res.converged[b], `${name}, pair ${b}: not converged (decrement ${res.decrement[b]})`);
      assert.ok(res.lengths[b] <= line[b], `${name}, pair ${b}: geodesic ${res.lengths[b]} longer than the straight line ${line[b]}`);
    }
  }
  decoder.dispose();
});
