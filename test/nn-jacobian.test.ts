/** Forward-mode Jacobians of every activation, the MLP and the RBF net, against finite differences and autodiff. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_NAMES } from '../src/lib/nn/activations';
import { createMlp } from '../src/lib/nn/mlp';
import { jacobianTangents, jacobianTangentsFd } from '../src/lib/nn/jacobian';
import { rbfStd, rbfStdJet, RbfPrecision } from '../src/lib/nn/rbf';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.div(tf.max(tf.abs(tf.sub(a, b))), tf.add(tf.max(tf.abs(b)), 1e-12)).dataSync()[0]);
}

for (const act of ACTIVATION_NAMES) {
  test(`MLP jet with ${act}: value and J^T match the plain pass, autodiff and central differences`, async () => {
    const rng = new Rng(7);
    const net = createMlp({ sizes: [3, 16, 12, 5], activations: [act, act, act === 'linear' ? 'linear' : act] }, rng);
    const x = tf.tensor2d(rng.normals(8 * 3), [8, 3]);
    await expectNoLeak(() =>
      tf.tidy(() => {
        const jet = net.jet(x);
        assert.ok(relErr(jet.value!, net.apply(x)) < 1e-6, 'jet value differs from apply');
        assert.deepEqual(jet.jt.shape, [8, 3, 5]);
        // tfjs has no second-order gradient for ELU (EluGrad), which the double-VJP needs.
        if (act !== 'elu') {
          const e1 = relErr(jet.jt, jacobianTangents((z) => net.apply(z), x));
          assert.ok(e1 < 1e-5, `forward mode vs autodiff: ${e1}`);
        }
        // relu's kink makes central differences unreliable near 0; the autodiff check covers it.
        if (act !== 'relu') {
          const e2 = relErr(jet.jt, jacobianTangentsFd((z) => net.apply(z), x, 1e-2));
          assert.ok(e2 < 2e-3, `forward mode vs central differences: ${e2}`);
        }
        const tOnly = net.jet(x, { withValue: false });
        assert.ok(relErr(tOnly.jt, jet.jt) < 1e-6, 'tangent-only path differs');
      }),
    );
    x.dispose();
    net.dispose();
  });
}

test('softplus with torch beta/threshold semantics: value and derivative', () => {
  const rng = new Rng(3);
  const net = createMlp({ sizes: [2, 6, 4], activations: [{ name: 'softplus', beta: 2, threshold: 1 }, 'linear'] }, rng);
  const x = tf.tensor2d(rng.normals(10 * 2).map((v) => v * 2), [10, 2]);
  tf.tidy(() => {
    const e = relErr(net.jet(x).jt, jacobianTangentsFd((z) => net.apply(z), x, 1e-3));
    assert.ok(e < 5e-2, `softplus(beta=2, threshold=1) J vs FD: ${e}`);
  });
  x.dispose();
  net.dispose();
});

test('RBF precision net: sigma jet against central differences; W >= 0 keeps sigma <= zeta^(-1/2)', async () => {
  const rng = new Rng(11);
  const k = 6;
  const dOut = 9;
  const rbf: RbfPrecision = {
    centers: tf.tensor2d(rng.normals(k * 2), [k, 2]),
    bandwidths: tf.tensor1d(Array.from({ length: k }, () => 0.5 + rng.uniform())),
    weightT: tf.variable(tf.tensor2d(Array.from({ length: k * dOut }, () => rng.uniform() * 5), [k, dOut])),
    zeta: 0.01,
  };
  const x = tf.tensor2d(rng.normals(7 * 2), [7, 2]);
  await expectNoLeak(() =>
    tf.tidy(() => {
      const jet = rbfStdJet(rbf, x);
      assert.ok(relErr(jet.value!, rbfStd(rbf, x)) < 1e-6);
      const e = relErr(jet.jt, jacobianTangentsFd((z) => rbfStd(rbf, z), x, 1e-3));
      assert.ok(e < 5e-3, `RBF sigma J vs FD: ${e}`);
      const s = rbfStd(rbf, x).dataSync();
      assert.ok(Math.max(...s) <= 0.01 ** -0.5 + 1e-3);
    }),
  );
  x.dispose();
  rbf.centers.dispose();
  rbf.bandwidths.dispose();
  rbf.weightT.dispose();
});
