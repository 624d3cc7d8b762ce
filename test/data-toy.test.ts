import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SURFACE_HOLE_RADIUS, noisySemicircle, ringsAndDisks, surfaceWithHole, twoMoons } from '../src/lib/data';

test('noisySemicircle: size, seeds, points near the upper unit semicircle', () => {
  const d = noisySemicircle({ n: 2000, seed: 1 });
  assert.equal(d.n, 2000);
  assert.equal(d.dim, 2);
  assert.equal(d.x.length, 4000);
  assert.deepEqual(noisySemicircle({ n: 2000, seed: 1 }), d);
  assert.notDeepEqual(noisySemicircle({ n: 2000, seed: 2 }).x, d.x);
  let sumRadius = 0;
  for (let i = 0; i < d.n; i++) {
    assert.ok(d.angle[i] >= 0 && d.angle[i] <= Math.PI);
    sumRadius += Math.hypot(d.x[2 * i], d.x[2 * i + 1]);
  }
  assert.ok(Math.abs(sumRadius / d.n - 1) < 0.02, `mean radius ${sumRadius / d.n}`);
  const exact = noisySemicircle({ n: 50, noise: 0, seed: 3 });
  for (let i = 0; i < 50; i++) {
    assert.ok(Math.abs(Math.hypot(exact.x[2 * i], exact.x[2 * i + 1]) - 1) < 1e-6);
    assert.ok(exact.x[2 * i + 1] >= 0);
  }
  assert.throws(() => noisySemicircle({ n: 10, noise: -1, seed: 1 }), { name: 'InputError', message: /noisySemicircle\.noise/ });
});

test('surfaceWithHole: exactly n points, the hole is empty, x follows the latent', () => {
  const d = surfaceWithHole({ n: 3000, seed: 5 });
  assert.equal(d.n, 3000);
  assert.equal(d.dim, 3);
  assert.equal(d.x.length, 9000);
  assert.equal(d.latent.length, 6000);
  assert.deepEqual(surfaceWithHole({ n: 3000, seed: 5 }), d);
  assert.notDeepEqual(surfaceWithHole({ n: 3000, seed: 6 }).x, d.x);
  let nearHole = 0;
  for (let i = 0; i < d.n; i++) {
    const [z1, z2] = [d.latent[2 * i], d.latent[2 * i + 1]];
    const r = Math.hypot(z1, z2);
    assert.ok(r > SURFACE_HOLE_RADIUS, `point ${i} inside the hole (|z| = ${r})`);
    assert.ok(Math.abs(z1) <= 0.5 && Math.abs(z2) <= 0.5);
    if (r < SURFACE_HOLE_RADIUS + 0.05) nearHole++;
    assert.equal(d.x[3 * i], z1);
    assert.equal(d.x[3 * i + 1], z2);
    assert.ok(Math.abs(d.x[3 * i + 2] - 0.25 * Math.sin(2 * Math.PI * z1)) < 0.06);
  }
  assert.ok(nearHole > 50, 'the data reaches the rim of the hole');
});

test('twoMoons: sizes, labels, seeds, noise-free points on the moons', () => {
  const d = twoMoons({ n: 101, seed: 1 });
  assert.equal(d.n, 101);
  assert.equal(d.x.length, 202);
  assert.equal(d.y.filter((l) => l === 0).length, 50);
  assert.equal(d.y.filter((l) => l === 1).length, 51);
  assert.deepEqual(twoMoons({ n: 101, seed: 1 }), d);
  assert.notDeepEqual(twoMoons({ n: 101, seed: 2 }).y, d.y);
  for (let i = 0; i < d.n; i++) {
    const [a, b] = [d.x[2 * i], d.x[2 * i + 1]];
    const r = d.y[i] === 0 ? Math.hypot(a, b) : Math.hypot(a - 1, b - 0.5);
    assert.ok(Math.abs(r - 1) < 1e-6, `point ${i} off its moon`);
    assert.ok(d.y[i] === 0 ? b >= -1e-7 : b <= 0.5 + 1e-7);
  }
  const noisy = twoMoons({ n: 101, noise: 0.1, seed: 1 });
  assert.deepEqual(noisy.y, d.y, 'noise does not change the order');
  assert.notDeepEqual(noisy.x, d.x);
});

test('ringsAndDisks: binary images, rings have a hole, disks do not', () => {
  const d = ringsAndDisks({ n: 200, seed: 11 });
  assert.equal(d.n, 200);
  assert.equal(d.images.length, 200 * 28 * 28);
  assert.equal(d.labels.filter((l) => l === 1).length, 100);
  assert.ok(d.images.every((v) => v === 0 || v === 1));
  assert.deepEqual(ringsAndDisks({ n: 200, seed: 11 }), d);
  assert.notDeepEqual(ringsAndDisks({ n: 200, seed: 12 }).images, d.images);
  const side = 28;
  for (let k = 0; k < d.n; k++) {
    const image = d.images.subarray(k * side * side, (k + 1) * side * side);
    const [cx, cy] = [d.centre[2 * k], d.centre[2 * k + 1]];
    assert.ok(Math.abs(cx - 14) <= 2 && Math.abs(cy - 14) <= 2, `centre ${k} not near the image centre`);
    assert.ok(d.radius[k] >= 4 && d.radius[k] <= 12);
    const r = d.radius[k];
    const inner = r - d.thickness[k];
    if (d.labels[k] === 0) assert.equal(d.thickness[k], r);
    else {
      assert.ok(d.thickness[k] >= 1 && d.thickness[k] <= Math.min(4, r - 2));
      assert.ok(inner >= 2);
    }
    let centreOn = 0;
    let on = 0;
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        const dist = Math.hypot(j + 0.5 - cx, i + 0.5 - cy);
        const v = image[i * side + j];
        on += v;
        if (dist < 1) centreOn += v;
        // Rings: off inside the hole. Disks: on everywhere inside the radius. Off outside both.
        if (dist < inner - 1e-4) assert.equal(v, 0, `ring ${k} pixel (${i}, ${j}) inside the hole is on`);
        if (d.labels[k] === 0 && dist < r - 1e-4) assert.equal(v, 1, `disk ${k} pixel (${i}, ${j}) is off`);
        if (dist > r + 1e-4) assert.equal(v, 0, `image ${k} pixel (${i}, ${j}) outside the radius is on`);
      }
    }
    // The few pixels within 1 px of the centre: all on for disks, all off for rings.
    if (d.labels[k] === 0) assert.ok(centreOn >= 1, `disk ${k} has a hole`);
    else assert.equal(centreOn, 0, `ring ${k} has no hole`);
    const area = Math.PI * (r * r - inner * inner);
    assert.ok(Math.abs(on - area) < 4 * r + 4, `image ${k}: ${on} pixels on, area ${area}`);
  }
  const small = ringsAndDisks({ n: 4, size: 16, seed: 1 });
  assert.equal(small.images.length, 4 * 256);
  assert.equal(small.height, 16);
  assert.throws(() => ringsAndDisks({ n: 4, size: 4, seed: 1 }), { name: 'InputError', message: /ringsAndDisks\.size/ });
});
