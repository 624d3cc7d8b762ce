import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  balancedSubset,
  pick,
  relabel,
  selectClasses,
  selectRows,
  shuffle,
  take,
  trainValSplit,
  type Dataset,
  type ImageSet,
} from '../src/lib/data';

/** n images of 2x1 pixels; image i holds [i, -i] and label labelOf(i), so rows can be traced. */
function tracedImages(n: number, labelOf: (i: number) => number): ImageSet {
  const images = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    images[2 * i] = i;
    images[2 * i + 1] = -i;
    labels[i] = labelOf(i);
  }
  return { images, labels, n, height: 2, width: 1, scaling: '01', source: 'traced' };
}

/** Which original rows a traced set holds, in order. */
function rowsOf(set: ImageSet): number[] {
  return Array.from({ length: set.n }, (_, i) => {
    assert.equal(set.images[2 * i + 1], -set.images[2 * i], 'pixels of a row stay together');
    assert.equal(set.labels[i], set.images[2 * i] % 3, 'labels follow their row');
    return set.images[2 * i];
  });
}

const set = tracedImages(30, (i) => i % 3);
const frozen = structuredClone(set);

test('selectClasses keeps order and labels; pick keeps metadata', () => {
  const s = selectClasses(set, [2, 0]);
  assert.deepEqual(rowsOf(s), [0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24, 26, 27, 29]);
  assert.equal(s.source, 'traced');
  assert.equal(s.height, 2);
  assert.throws(() => selectClasses(set, [1, 7]), { name: 'InputError', message: /selectClasses\.classes: no examples of class 7/ });
  assert.throws(() => selectClasses(set, [1, 1]), { message: /class labels repeat/ });
  assert.throws(() => selectClasses(set, []), { message: /non-empty list/ });
  assert.deepEqual(rowsOf(pick(set, [4, 4, 0])), [4, 4, 0]);
  assert.throws(() => pick(set, [30]), RangeError);
});

test('shuffle and trainValSplit are seeded permutations', () => {
  const a = shuffle(set, 1);
  assert.deepEqual(shuffle(set, 1), a);
  assert.notDeepEqual(rowsOf(shuffle(set, 2)), rowsOf(a));
  assert.deepEqual([...rowsOf(a)].sort((x, y) => x - y), rowsOf(set));

  const { train, val } = trainValSplit(set, 0.2, 7);
  assert.equal(val.n, 6);
  assert.equal(train.n, 24);
  assert.deepEqual([...rowsOf(train), ...rowsOf(val)].sort((x, y) => x - y), rowsOf(set));
  assert.deepEqual(trainValSplit(set, 0.2, 7), { train, val });
  assert.throws(() => trainValSplit(set, 1, 7), { name: 'InputError', message: /trainValSplit\.valFraction/ });
});

test('take clamps like slice; balancedSubset takes perClass of each class', () => {
  assert.deepEqual(rowsOf(take(set, 3)), [0, 1, 2]);
  assert.equal(take(set, 100).n, 30);
  assert.equal(take(set, 0).n, 0);

  const b = balancedSubset(set, 4, 3);
  assert.equal(b.n, 12);
  for (const c of [0, 1, 2]) assert.equal(b.labels.filter((l) => l === c).length, 4);
  assert.deepEqual(balancedSubset(set, 4, 3), b);
  assert.notDeepEqual(rowsOf(balancedSubset(set, 4, 4)), rowsOf(b));
  assert.throws(() => balancedSubset(set, 11, 3), {
    name: 'InputError',
    message: /asked for 11 per class but class 0 has 10, class 1 has 10, class 2 has 10/,
  });
});

test('relabel maps classes[i] to i; functions work on Datasets and never change their argument', () => {
  const r = relabel(selectClasses(set, [2, 0]), [2, 0]);
  assert.deepEqual(Array.from(r.labels.subarray(0, 4)), [1, 0, 1, 0]);
  assert.throws(() => relabel(set, [0, 1]), { name: 'InputError', message: /label 2 at row 2 is not in \[0, 1\]/ });

  const points: Dataset = { x: Float32Array.from([0, 0, 1, 1, 2, 2]), y: Int32Array.from([5, 6, 5]), n: 3, dim: 2 };
  const fives = selectClasses(points, [5]);
  assert.deepEqual(Array.from(fives.x), [0, 0, 2, 2]);
  assert.deepEqual(Array.from(relabel(fives, [5]).y ?? []), [0, 0]);
  const unlabelled: Dataset = { x: new Float32Array(4), n: 2, dim: 2 };
  assert.equal(shuffle(unlabelled, 1).y, undefined);
  assert.throws(() => selectClasses(unlabelled, [0]), { name: 'InputError', message: /selectClasses: the data set has no labels/ });

  assert.deepEqual(set, frozen, 'inputs unchanged');
});

test('selectRows: classes, then seeded shuffle, then limit', () => {
  const labels = set.labels;
  assert.deepEqual(Array.from(selectRows(labels, { classes: [1], limit: 3 }, 'w')), [1, 4, 7]);
  const shuffled = selectRows(labels, { classes: [1], seed: 9, limit: 3 }, 'w');
  assert.ok(shuffled.every((r) => r % 3 === 1));
  assert.notDeepEqual(Array.from(shuffled), [1, 4, 7]);
  assert.throws(() => selectRows(labels, { seed: NaN }, 'w'), { name: 'InputError', message: /^w\.seed: seed must be a finite number/ });
});
