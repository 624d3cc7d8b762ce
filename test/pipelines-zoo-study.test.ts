/**
 * The conditioning study of notebook 07 on a linear generator, whose J^T J, condition number and volume
 * are known in closed form, and the panel figure's layout.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { decoderFromJson } from '../src/lib/io/decoder-json';
import { conditioningStudy, panelGrid, zooSpecs, specLabel, type TrainedGenerator } from '../src/lib/pipelines/zoo-study';
import { latentHeatmap } from '../src/lib/plots/fields';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

test('on a linear generator x = A z the study finds kappa(A) and 1/2 log det(A^T A) everywhere', async () => {
  // Columns of A: (3, 0, 0, 0) and (1, 1, 0, 0): A^T A = [[9, 3], [3, 2]], det 9, eigenvalues (11 ± sqrt(85)) / 2.
  const weight = [
    [3, 1],
    [0, 1],
    [0, 0],
    [0, 0],
  ];
  const { decoder } = decoderFromJson({ format: 'decoder-json/v1', latent_dim: 2, output_dim: 4, mean_net: { layers: [{ kind: 'linear', weight, bias: [0, 0, 0, 0] }] } });
  const codes = new Rng(1).normals(300 * 2);
  const model: TrainedGenerator = { spec: zooSpecs()[0], decoder, codes, history: [], fromCache: false };
  const study = await expectNoLeak(() => conditioningStudy(model, 20));
  const kappa = Math.sqrt((11 + Math.sqrt(85)) / (11 - Math.sqrt(85)));
  const logVolume = 0.5 * Math.log(9);
  const s = study.summary;
  for (const v of [s.condition_number_median_on_data, s.condition_number_p95_on_data, s.condition_number_median_off_data]) assert.ok(Math.abs(v - kappa) < 1e-4 * kappa, `kappa ${v} vs ${kappa}`);
  for (const v of [s.log_volume_median_on_data, s.log_volume_median_off_data]) assert.ok(Math.abs(v - logVolume) < 1e-5, `log volume ${v} vs ${logVolume}`);
  study.logDet.forEach((v) => assert.ok(Math.abs(v - Math.log(9)) < 1e-4));
  // The grid reaches beyond the codes (25% of their range on each side): its rim is off the data, its centre on it.
  assert.ok(s.off_data_points > 0 && s.off_data_points < 400, `${s.off_data_points} of 400 grid points off the data`);
  assert.equal(study.offData[0], 1, 'a grid corner is off the data');
  assert.equal(study.offData[10 * 20 + 10], 0, 'the grid centre is on the data');
  decoder.dispose();
});

test('panelGrid lays out one axis pair per panel with a single colour bar', () => {
  const panel = latentHeatmap({ xs: [0, 1], ys: [0, 1], values: [1, 2, 3, 4], title: '', colorbarTitle: 'v', points: { x: [0.5], y: [0.5] } });
  const specs = zooSpecs();
  const fig = panelGrid(specs.map((s) => ({ title: specLabel(s), fig: panel })), { rows: 3, cols: 4, title: 'test' });
  assert.equal(fig.data.length, 24);
  assert.equal(fig.data.filter((t) => t.type === 'heatmap' && t.showscale).length, 1);
  assert.deepEqual([...new Set(fig.data.map((t) => t.xaxis))].length, 12);
  const y12 = fig.layout.yaxis12 as { anchor: string; scaleanchor: string; domain: number[] };
  assert.equal(y12.anchor, 'x12');
  assert.equal(y12.scaleanchor, 'x12');
  assert.ok(y12.domain[0] >= 0 && y12.domain[1] < 0.34, 'the last panel is in the bottom row');
  assert.equal((fig.layout.annotations as { text: string }[])[11].text, 'GAN 256-64 sigmoid');
});
