/**
 * Toy data sets from the papers the workbook follows. Each is a pure function of its options: the same
 * seed gives the same numbers on every machine (Rng is a fixed algorithm, not Math.random).
 */
import { Rng } from '../util/rng';
import { expectInput, positiveInt } from '../util/errors';
import type { Dataset, ImageSet } from './types';

function checkNoise(noise: number, where: string): number {
  expectInput(Number.isFinite(noise) && noise >= 0, where, `expected a finite number >= 0, got ${noise}`);
  return noise;
}

function checkSeed(seed: number, where: string): number {
  expectInput(Number.isFinite(seed), where, `expected a finite number, got ${seed}`);
  return seed;
}

export interface ToyOptions {
  n: number;
  /** Standard deviation of the Gaussian noise. */
  noise?: number;
  seed: number;
}

/**
 * Points on the upper half of the unit circle, angle uniform in [0, pi], plus isotropic Gaussian noise
 * (default std 0.1): the LAND paper's (Arvanitidis et al. 2016) example of data near a curved
 * one-dimensional manifold, where a Euclidean Gaussian fits badly and a locally adaptive metric fits well.
 * `angle` [n] is the noise-free position along the curve.
 */
export function noisySemicircle(opts: ToyOptions): Dataset & { angle: Float32Array } {
  const n = positiveInt(opts.n, 'noisySemicircle.n');
  const noise = checkNoise(opts.noise ?? 0.1, 'noisySemicircle.noise');
  const rng = new Rng(checkSeed(opts.seed, 'noisySemicircle.seed'));
  const x = new Float32Array(2 * n);
  const angle = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = Math.PI * rng.uniform();
    angle[i] = t;
    x[2 * i] = Math.cos(t) + noise * rng.normal();
    x[2 * i + 1] = Math.sin(t) + noise * rng.normal();
  }
  return { x, n, dim: 2, angle };
}

/** Radius of the hole in surfaceWithHole's (centred) latent square. */
export const SURFACE_HOLE_RADIUS = 0.2;

/**
 * The synthetic surface of "Latent Space Oddity" (Arvanitidis, Hansen & Hauberg 2018): latent points Z
 * uniform in [0, 1]^2, centred (Z - 0.5), with the disc |Z| <= 0.2 removed, mapped to
 * x = [Z1, Z2, 0.25 sin(2 pi Z1) + noise * N(0, 1)] (default noise 0.01). The hole is the point: a good
 * generative model's metric should make geodesics go around it. Exactly `n` points are returned
 * (rejected draws are replaced); `latent` [n, 2] holds the centred Z of each point.
 */
export function surfaceWithHole(opts: ToyOptions): Dataset & { latent: Float32Array } {
  const n = positiveInt(opts.n, 'surfaceWithHole.n');
  const noise = checkNoise(opts.noise ?? 0.01, 'surfaceWithHole.noise');
  const rng = new Rng(checkSeed(opts.seed, 'surfaceWithHole.seed'));
  const x = new Float32Array(3 * n);
  const latent = new Float32Array(2 * n);
  for (let i = 0; i < n; ) {
    const z1 = rng.uniform() - 0.5;
    const z2 = rng.uniform() - 0.5;
    if (Math.hypot(z1, z2) <= SURFACE_HOLE_RADIUS) continue;
    latent[2 * i] = z1;
    latent[2 * i + 1] = z2;
    x[3 * i] = z1;
    x[3 * i + 1] = z2;
    x[3 * i + 2] = 0.25 * Math.sin(2 * Math.PI * z1) + noise * rng.normal();
    i++;
  }
  return { x, n, dim: 3, latent };
}

/**
 * Two interleaving half circles, as scikit-learn's make_moons(n, shuffle=True, noise): floor(n/2) points
 * evenly spaced on the outer moon (label 0), the rest on the inner one (label 1), shuffled, then
 * Gaussian noise of std `noise` (default 0, as in scikit-learn) added to every coordinate.
 */
export function twoMoons(opts: ToyOptions): Dataset & { y: Int32Array } {
  const n = positiveInt(opts.n, 'twoMoons.n');
  const noise = checkNoise(opts.noise ?? 0, 'twoMoons.noise');
  const rng = new Rng(checkSeed(opts.seed, 'twoMoons.seed'));
  const nOuter = Math.floor(n / 2);
  const nInner = n - nOuter;
  const along = (i: number, count: number): number => (count > 1 ? (Math.PI * i) / (count - 1) : 0);
  const order = rng.permutation(n);
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const inner = i >= nOuter;
    const t = inner ? along(i - nOuter, nInner) : along(i, nOuter);
    y[k] = inner ? 1 : 0;
    x[2 * k] = (inner ? 1 - Math.cos(t) : Math.cos(t)) + noise * rng.normal();
    x[2 * k + 1] = (inner ? 0.5 - Math.sin(t) : Math.sin(t)) + noise * rng.normal();
  }
  return { x, y, n, dim: 2 };
}

export interface RingsAndDisksOptions {
  n: number;
  /** Image side in pixels (default 28); radii, jitter and thickness scale with size / 28. */
  size?: number;
  seed: number;
}

export const RINGS_AND_DISKS_LABELS: readonly string[] = ['disk', 'ring'];

/**
 * Binary images of filled disks (label 0) and rings (label 1), half each (alternating), as in Figure 1 of
 * Chadebec & Allassonniere (2022, "A geometric perspective on VAEs"): two classes that differ only by a hole,
 * with a continuous variation (radius, thickness) within each. For size 28: centre within 2 px of the image
 * centre, outer radius uniform in [4, 12] px, ring thickness uniform in [1, min(4, radius - 2)] px so that
 * every ring keeps a hole at least 2 px wide. A pixel is on when its centre's distance d to the disk centre
 * has radius - thickness <= d <= radius; a disk is a ring whose thickness is its radius.
 * `radius` and `thickness` [n] are in pixels; `centre` [n, 2] is (x = column, y = row) in pixels, the
 * top-left corner of the image being (0, 0).
 */
export function ringsAndDisks(
  opts: RingsAndDisksOptions,
): ImageSet & { radius: Float32Array; thickness: Float32Array; centre: Float32Array } {
  const n = positiveInt(opts.n, 'ringsAndDisks.n');
  const size = positiveInt(opts.size ?? 28, 'ringsAndDisks.size');
  expectInput(size >= 8, 'ringsAndDisks.size', `expected at least 8 pixels, got ${size}`);
  const rng = new Rng(checkSeed(opts.seed, 'ringsAndDisks.seed'));
  const s = size / 28;
  const between = (lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();
  const images = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  const radius = new Float32Array(n);
  const thickness = new Float32Array(n);
  const centre = new Float32Array(2 * n);
  for (let k = 0; k < n; k++) {
    const ring = k % 2 === 1;
    const cx = size / 2 + between(-2 * s, 2 * s);
    const cy = size / 2 + between(-2 * s, 2 * s);
    const r = between(4 * s, 12 * s);
    const t = ring ? between(s, Math.min(4 * s, r - 2 * s)) : r;
    labels[k] = ring ? 1 : 0;
    radius[k] = r;
    thickness[k] = t;
    centre[2 * k] = cx;
    centre[2 * k + 1] = cy;
    const offset = k * size * size;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const d = Math.hypot(j + 0.5 - cx, i + 0.5 - cy);
        if (d <= r && d >= r - t) images[offset + i * size + j] = 1;
      }
    }
  }
  return {
    images,
    labels,
    n,
    height: size,
    width: size,
    scaling: '01',
    source: `rings-and-disks(size=${size}, seed=${opts.seed})`,
    radius,
    thickness,
    centre,
  };
}
