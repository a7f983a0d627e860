import { describe, expect, it } from 'vitest';
import { chanceToBeat, chiSquarePValue, percentile, sampleRatioMismatchPValue, twoProportionPValue, wilsonInterval } from '@doorstep/schema';

// Reference values computed independently with scipy 1.17.1: binomtest(k, n).proportion_ci(method='wilson'),
// norm.sf for the pooled z-test, quad integration of Beta(b+1, n-b+1).pdf * Beta(a+1, n-a+1).cdf,
// stats.chisquare and stats.chi2.sf.

describe('statistics', () => {
  it.each([
    [45, 300, 0.1140324687, 0.1948176111],
    [0, 20, 0, 0.1611251581],
    [980, 1000, 0.9693099948, 0.9870163171],
  ])('should give the Wilson 95%% interval of %i in %i', (k, n, low, high) => {
    const [lo, hi] = wilsonInterval(k, n);
    expect(lo).toBeCloseTo(low, 7);
    expect(hi).toBeCloseTo(high, 7);
  });

  it.each([
    [100, 1000, 130, 1000, 0.03548845046647471],
    [2000, 10000, 2100, 10000, 0.07984985065721206],
    [5, 50, 5, 50, 1],
  ])('should give the two-proportion p-value of %i/%i vs %i/%i', (a, n1, b, n2, expected) => {
    expect(twoProportionPValue(a, n1, b, n2)).toBeCloseTo(expected, 6);
  });

  it.each([
    [100, 1000, 130, 1000, 0.9821650661163506],
    [20, 200, 18, 200, 0.3682562118018382],
    [2000, 10000, 2100, 10000, 0.9600635625840765],
  ])('should give the chance that %i/%i is beaten by %i/%i', (a, n1, b, n2, expected) => {
    expect(chanceToBeat(a, n1, b, n2)).toBeCloseTo(expected, 5);
  });

  it('should approximate the chance to beat closely beyond the exact range', () => {
    expect(chanceToBeat(30_000, 100_000, 30_400, 100_000)).toBeCloseTo(0.9742986259550976, 5);
    expect(chanceToBeat(30_000, 100_000, 30_000, 100_000)).toBeCloseTo(0.5, 3);
  });

  it.each([
    [[5000, 5100], [0.5, 0.5], 0.3197181768128675],
    [[5000, 5400], [0.5, 0.5], 8.769942375590228e-5],
    [[3300, 3350, 3200], [1, 1, 1], 0.16920407533549506],
  ])('should test %j against weights %j for a sample ratio mismatch', (observed, weights, expected) => {
    expect(sampleRatioMismatchPValue(observed, weights)).toBeCloseTo(expected, 8);
  });

  it('should give chi-square tail probabilities', () => {
    expect(chiSquarePValue(7.3, 3)).toBeCloseTo(0.06292623645904312, 9);
    expect(chiSquarePValue(30, 5)).toBeCloseTo(1.4748581038443073e-5, 10);
  });

  it('should interpolate percentiles like percentile_cont', () => {
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(25);
    expect(percentile([10, 20, 30, 40], 0.9)).toBeCloseTo(37, 9);
    expect(percentile([], 0.5)).toBeNull();
  });
});
