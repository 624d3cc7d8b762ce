/** Class probabilities sum to one and leak no tensors; the confidence summaries on hand-made probabilities. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createClassifier } from '../src/lib/evaluation/classifier';
import { classProbabilities, summariseConfidence } from '../src/lib/evaluation/confidence';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';

before(setupBackend);

test('softmax probabilities of an untrained classifier sum to one per image', async () => {
  const cl = createClassifier(16, { hidden: [8], classes: 4 });
  const rng = new Rng(1);
  const images = Float32Array.from({ length: 5 * 16 }, () => rng.uniform());
  const p = await expectNoLeak(() => classProbabilities(cl, images, 2));
  assert.equal(p.length, 20);
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(p[4 * i] + p[4 * i + 1] + p[4 * i + 2] + p[4 * i + 3] - 1) < 1e-5);
  cl.dispose();
});

test('summaries: mean and median top probability, fraction above 0.9, mass on chosen classes', () => {
  const probs = Float32Array.of(0.95, 0.05, 0, 0.5, 0.3, 0.2, 0.1, 0.1, 0.8);
  const s = summariseConfidence(probs, 3, [0, 1]);
  assert.ok(Math.abs(s.meanTop - (0.95 + 0.5 + 0.8) / 3) < 1e-6);
  assert.ok(Math.abs(s.medianTop - 0.8) < 1e-6);
  assert.ok(Math.abs(s.fractionAbove90 - 1 / 3) < 1e-12);
  assert.ok(Math.abs(s.meanOnClasses - (1 + 0.8 + 0.2) / 3) < 1e-6);
  assert.equal(s.images, 3);
});
