/**
 * The LAND normaliser with the exponential map's Jacobian against closed forms. On a constant metric both
 * estimators are exact. On the hyperbolic half-plane (curvature -1) and the unit sphere in its stereographic
 * chart (curvature +1) the tangent-space integrand m(Exp v) |det D Exp(v)| is m(mu) sinh(r)/r and m(mu)
 * sin(r)/r (r = |v|_M(mu), the Jacobi equation in 2-D), so C has a one-dimensional closed form: the
 * Jacobian-weighted estimate must match it within Monte Carlo error, and the paper's estimate E[m(Exp v)]
 * must not. Also: the Jacobian of the exp map against the same closed form pointwise, and a flat map.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { ConstantMetric, HalfPlaneMetric, StereographicSphere } from '../src/lib/geometry/reference-metrics';
import { expMapJacobian, logAbsDeterminant } from '../src/lib/geometry/expmap-jacobian';
import { fieldsAt } from '../src/lib/geometry/fields';
import type { Metric } from '../src/lib/geometry/metric';
import { Rng } from '../src/lib/util/rng';
import { expectNoLeak, setupBackend } from './helpers';
import { landNormaliser } from '../src/lib/sampling/land/density';

before(setupBackend);

/** 2 pi integral_0^inf exp(-rho^2 / (2 s^2)) g(rho) rho d rho by Simpson's rule on [0, 12 s]. */
function radialIntegral(s: number, g: (rho: number) => number): number {
  const n = 4000;
  const h = (12 * s) / n;
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const rho = i * h;
    const w = i === 0 || i === n ? 1 : i % 2 ? 4 : 2;
    acc += w * Math.exp(-(rho * rho) / (2 * s * s)) * g(rho) * rho;
  }
  return (2 * Math.PI * acc * h) / 3;
}

const sinhc = (r: number) => (r === 0 ? 1 : Math.sinh(r) / r);
const sinc = (r: number) => (r === 0 ? 1 : Math.abs(Math.sin(r)) / r);

/** m(Exp v) |det D Exp v| / m(mu) at random tangent vectors, against the Jacobi-field closed form. */
function checkIntegrand(metric: Metric, mu: number[], scale: number, g: (r: number) => number, rScale: number, tol: number): void {
  const rng = new Rng(4);
  const n = 24;
  const starts = new Float64Array(n * 2);
  const v = new Float64Array(n * 2);
  for (let p = 0; p < n; p++) {
    starts.set(mu, 2 * p);
    v[2 * p] = scale * rng.normal();
    v[2 * p + 1] = scale * rng.normal();
  }
  const res = expMapJacobian(metric, starts, v, { steps: 40, scheme: 'central' });
  const lv = fieldsAt(metric, Float32Array.from(res.endpoints)).logVolume;
  const lv0 = fieldsAt(metric, Float32Array.from(mu)).logVolume[0];
  for (let p = 0; p < n; p++) {
    const r = rScale * Math.hypot(v[2 * p], v[2 * p + 1]);
    const got = lv[p] + res.logAbsDet[p] - lv0;
    assert.ok(Math.abs(got - Math.log(g(r))) < tol, `sample ${p}: r = ${r.toFixed(3)}, log integrand ${got.toFixed(5)}, closed form ${Math.log(g(r)).toFixed(5)}`);
  }
}

test('D Exp of a constant metric is the identity; logAbsDeterminant of a known matrix', () => {
  const metric = new ConstantMetric(Float64Array.of(2, 0.5, 0.5, 1));
  const res = expMapJacobian(metric, [[0.3, -0.2], [1, 1]], [[0.5, 0.1], [-2, 3]], { steps: 4 });
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(res.jacobians[i] - [1, 0, 0, 1][i % 4]) < 1e-6, `entry ${i}: ${res.jacobians[i]}`);
  assert.ok(Math.abs(logAbsDeterminant([2, 1, 0, 3, 1, 2, 1, 0, 4], 3) - Math.log(2)) < 1e-12);
  assert.equal(logAbsDeterminant([1, 2, 2, 4], 2), -Infinity);
});

test('hyperbolic half-plane: m(Exp v) |det D Exp v| = m(mu) sinh(r) / r', () => {
  checkIntegrand(new HalfPlaneMetric(), [0.2, 1], 0.6, sinhc, 1, 2e-3);
});

test('unit sphere (stereographic chart): m(Exp v) |det D Exp v| = m(mu) sin(r) / r', () => {
  // M(0) = 4 I, so r = 2 |v|.
  checkIntegrand(new StereographicSphere(), [0, 0], 0.4, sinc, 2, 2e-3);
});

test('constant metric: both normalisers exact', () => {
  const a = Float64Array.of(2, 0.5, 0.5, 1);
  const cov = [0.3, 0.1, 0.1, 0.2];
  const exact = 0.5 * (2 * Math.log(2 * Math.PI) + Math.log(0.3 * 0.2 - 0.01)) + 0.5 * Math.log(2 - 0.25);
  for (const normaliser of ['jacobian', 'paper'] as const) {
    const est = landNormaliser(new ConstantMetric(a), [0.5, -1], cov, { mc: { samples: 40, seed: 3 }, expSteps: 2, normaliser });
    assert.ok(Math.abs(est.logC - exact) < 1e-5, `${normaliser}: log C ${est.logC} vs ${exact}`);
  }
});

/** Both estimates at mu for Sigma = s^2 I; the Jacobian-weighted one within MC error of the exact C, the paper's not. */
function checkNormaliser(metric: Metric, mu: number[], s: number, exactLogC: number): { jacobian: number; paper: number; se: number } {
  const opts = { mc: { samples: 600, seed: 5 }, expSteps: 24, maxExpSteps: 96 };
  const jac = landNormaliser(metric, mu, [s * s, 0, 0, s * s], { ...opts, normaliser: 'jacobian' });
  const paper = landNormaliser(metric, mu, [s * s, 0, 0, s * s], { ...opts, normaliser: 'paper' });
  assert.equal(jac.dropped, 0);
  // Monte Carlo error (4 standard errors) plus the integration error of RK4 and the finite differences.
  assert.ok(Math.abs(jac.logC - exactLogC) < 4 * jac.se + 5e-3, `Jacobian-weighted log C ${jac.logC.toFixed(4)} +- ${jac.se.toFixed(4)} vs exact ${exactLogC.toFixed(4)}`);
  assert.ok(Math.abs(paper.logC - exactLogC) > 10 * Math.max(paper.se, jac.se), `paper's log C ${paper.logC.toFixed(4)} +- ${paper.se.toFixed(4)} should miss ${exactLogC.toFixed(4)}`);
  return { jacobian: jac.logC, paper: paper.logC, se: jac.se };
}

test('hyperbolic half-plane: the Jacobian-weighted normaliser matches the closed form, the paper\'s does not', (t) => {
  const s = 0.7;
  // 2 pi integral of exp(-r^2 / 2 s^2) sinh(r) dr = 2 pi s sqrt(pi / 2) exp(s^2 / 2) erf(s / sqrt 2); m(mu) = 1 at y = 1.
  const exact = Math.log(radialIntegral(s, sinhc));
  const erf = (x: number) => {
    // Abramowitz-Stegun 7.1.26 is too coarse here; the series converges fast for x < 1.
    let term = x;
    let sum = x;
    for (let k = 1; k < 40; k++) {
      term *= (-x * x) / k;
      sum += term / (2 * k + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const closed = Math.log(2 * Math.PI * s * Math.sqrt(Math.PI / 2) * Math.exp((s * s) / 2) * erf(s / Math.SQRT2));
  assert.ok(Math.abs(exact - closed) < 1e-8, `quadrature ${exact} vs closed form ${closed}`);
  const got = checkNormaliser(new HalfPlaneMetric(), [0, 1], s, exact);
  t.diagnostic(`log C: exact ${exact.toFixed(4)}, Jacobian-weighted ${got.jacobian.toFixed(4)} +- ${got.se.toFixed(4)}, paper ${got.paper.toFixed(4)}`);
});

test('unit sphere (stereographic chart): the Jacobian-weighted normaliser matches, the paper\'s does not', (t) => {
  // Sigma = s^2 I in chart units; r = 2 rho; m(0) = 4.
  const s = 0.35;
  const exact = Math.log(4 * radialIntegral(s, (rho) => sinc(2 * rho)));
  const got = checkNormaliser(new StereographicSphere(), [0, 0], s, exact);
  t.diagnostic(`log C: exact ${exact.toFixed(4)}, Jacobian-weighted ${got.jacobian.toFixed(4)} +- ${got.se.toFixed(4)}, paper ${got.paper.toFixed(4)}`);
});

test('expMapJacobian leaks no tensors', () => {
  expectNoLeak(() => expMapJacobian(new HalfPlaneMetric(), [[0, 1]], [[0.3, 0.2]], { steps: 5 }));
});
