import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  chooseVariation, evalCondition, getBucketRanges, getEqualWeights, hash, inNamespace, runExperiment,
  type TExperiment, type TExperimentContext,
  type TBucketRange, type TCondition, type TNamespace, type TSavedGroups,
} from '@doorstep/schema';

// Vendored with its source and licence (growthbook/README.md): the suite never reads outside the repository.
const casesPath = fileURLToPath(new URL('./growthbook/cases.json', import.meta.url));
const cases = JSON.parse(readFileSync(casesPath, 'utf8'));

// GrowthBook's own harness compares floats truncated to 8 decimals.
const round = (n: number) => Math.floor(n * 1e8) / 1e8;
const roundRanges = (ranges: TBucketRange[]) => ranges.map(([a, b]) => [round(a), round(b)]);

describe('GrowthBook conformance: hash', () => {
  it.each(cases.hash as [string, string, number, number | null][])(
    'should hash seed %j value %j with version %j', (seed, value, version, expected) => {
      const actual = hash(seed, value, version);
      expect(actual === null ? null : round(actual)).toEqual(expected === null ? null : round(expected));
    });
});

describe('GrowthBook conformance: getBucketRange', () => {
  it.each(cases.getBucketRange as [string, [number, number, number[] | null], TBucketRange[]][])(
    'should compute ranges: %s', (_name, [n, coverage, weights], expected) => {
      expect(roundRanges(getBucketRanges(n, coverage, weights))).toEqual(roundRanges(expected));
    });
});

describe('GrowthBook conformance: chooseVariation', () => {
  it.each(cases.chooseVariation as [string, number, TBucketRange[], number][])(
    'should choose: %s', (_name, n, ranges, expected) => {
      expect(chooseVariation(n, ranges)).toBe(expected);
    });
});

describe('GrowthBook conformance: getEqualWeights', () => {
  it.each(cases.getEqualWeights as [number, number[]][])(
    'should split %j variations equally', (n, expected) => {
      expect(getEqualWeights(n).map(round)).toEqual(expected.map(round));
    });
});

describe('GrowthBook conformance: inNamespace', () => {
  it.each(cases.inNamespace as [string, string, TNamespace, boolean][])(
    'should place in namespace: %s', (_name, userId, namespace, expected) => {
      expect(inNamespace(userId, namespace)).toBe(expected);
    });
});

describe('GrowthBook conformance: evalCondition', () => {
  it.each(cases.evalCondition as [string, TCondition, Record<string, unknown>, boolean, TSavedGroups?][])(
    'should evaluate: %s', (_name, condition, attributes, expected, savedGroups) => {
      expect(evalCondition(attributes, condition, savedGroups)).toBe(expected);
    });
});

describe('GrowthBook conformance: run', () => {
  it.each(cases.run as [string, TExperimentContext, TExperiment, unknown, boolean, boolean][])(
    'should run: %s', (_name, context, experiment, expectedValue, inExperiment, hashUsed) => {
      const result = runExperiment(experiment, context);
      expect(result.value).toEqual(expectedValue);
      expect(result.inExperiment).toBe(inExperiment);
      expect(result.hashUsed).toBe(hashUsed);
    });
});
