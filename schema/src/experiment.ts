import { evalCondition, type TAttributes, type TCondition, type TSavedGroups } from './condition.ts';
import { chooseVariation, getBucketRanges, hash, inNamespace, inRange, type TBucketRange, type TNamespace } from './hashing.ts';
import { compileSafeRegex } from './safe-regex.ts';

export type TExperimentFilter = { seed: string; ranges: TBucketRange[]; attribute?: string; hashVersion?: number };
export type TParentCondition = { id: string; condition: TCondition; gate?: boolean };

/** An experiment in GrowthBook's SDK shape. */
export type TExperiment<T = unknown> = {
  key: string;
  variations: T[];
  weights?: number[];
  coverage?: number;
  active?: boolean;
  status?: 'draft' | 'running' | 'stopped';
  seed?: string;
  hashVersion?: number;
  hashAttribute?: string;
  fallbackAttribute?: string;
  namespace?: TNamespace;
  filters?: TExperimentFilter[];
  ranges?: TBucketRange[];
  condition?: TCondition;
  parentConditions?: TParentCondition[];
  /** The user must belong to at least one of these groups (context.groups). */
  groups?: string[];
  /** Old-style URL targeting: a pattern the page URL (or its path) must match. */
  url?: string;
  force?: number;
  meta?: Array<{ key?: string }>;
};

/** Only a feature's default value is evaluated for prerequisites: Doorstep has no feature rules. */
export type TFeatureDefinitions = Record<string, { defaultValue?: unknown }>;

export type TExperimentContext = {
  attributes?: TAttributes;
  enabled?: boolean;
  qaMode?: boolean;
  url?: string;
  forcedVariations?: Record<string, number>;
  savedGroups?: TSavedGroups;
  features?: TFeatureDefinitions;
  groups?: Record<string, boolean>;
};

export type TExperimentResult<T = unknown> = {
  key: string;
  value: T;
  variationId: number;
  inExperiment: boolean;
  hashUsed: boolean;
  hashAttribute: string;
  hashValue: string;
  bucket?: number;
};

function hashAttributeOf(context: TExperimentContext, attribute?: string, fallback?: string): { hashAttribute: string; hashValue: string } {
  const attributes = context.attributes ?? {};
  let hashAttribute = attribute || 'id';
  let value = attributes[hashAttribute];
  if ((value === undefined || value === null || value === '') && fallback) {
    const fallbackValue = attributes[fallback];
    if (fallbackValue !== undefined && fallbackValue !== null && fallbackValue !== '') {
      hashAttribute = fallback;
      value = fallbackValue;
    }
  }
  return { hashAttribute, hashValue: value === undefined || value === null ? '' : String(value) };
}

function queryStringOverride(key: string, url: string | undefined, numVariations: number): number | null {
  const search = url?.split('?')[1];
  if (!search) return null;
  const match = search
    .replace(/#.*/, '')
    .split('&')
    .map((pair) => pair.split('=', 2))
    .filter(([name]) => name === key)
    .map(([, value]) => Number.parseInt(value, 10));
  return match.length > 0 && match[0] >= 0 && match[0] < numVariations ? match[0] : null;
}

function filteredOut(filters: TExperimentFilter[], context: TExperimentContext): boolean {
  return filters.some((filter) => {
    const { hashValue } = hashAttributeOf(context, filter.attribute);
    if (!hashValue) return true;
    const n = hash(filter.seed, hashValue, filter.hashVersion ?? 2);
    return n === null || !filter.ranges.some((range) => inRange(n, range));
  });
}

function prerequisitesMet(parents: TParentCondition[], context: TExperimentContext): boolean {
  return parents.every((parent) => {
    const value = context.features?.[parent.id]?.defaultValue ?? null;
    return evalCondition({ value }, parent.condition ?? {}, context.savedGroups ?? {});
  });
}

function urlMatches(pattern: string, url: string | undefined): boolean {
  if (!url) return false;
  const regex = compileSafeRegex(pattern, false);
  if (!regex) return false;
  const pathOnly = url.replace(/^https?:\/\//, '').replace(/^[^/]*\//, '/');
  return regex.test(url) || regex.test(pathOnly);
}

/** GrowthBook's experiment semantics: deterministic assignment by hash, no storage needed. */
export function runExperiment<T>(experiment: TExperiment<T>, context: TExperimentContext = {}): TExperimentResult<T> {
  const numVariations = experiment.variations.length;
  const result = (variationIndex: number, hashUsed = false, bucket?: number): TExperimentResult<T> => {
    const inExperiment = variationIndex >= 0 && variationIndex < numVariations;
    const index = inExperiment ? variationIndex : 0;
    const { hashAttribute, hashValue } = hashAttributeOf(context, experiment.hashAttribute, experiment.fallbackAttribute);
    return {
      key: experiment.meta?.[index]?.key ?? String(index),
      value: experiment.variations[index],
      variationId: index,
      inExperiment,
      hashUsed: inExperiment && hashUsed,
      hashAttribute,
      hashValue,
      ...(bucket === undefined ? {} : { bucket }),
    };
  };

  if (numVariations < 2 || context.enabled === false) return result(-1);
  const fromQuery = queryStringOverride(experiment.key, context.url, numVariations);
  if (fromQuery !== null) return result(fromQuery);
  const forced = context.forcedVariations?.[experiment.key];
  if (forced !== undefined) return result(forced);
  if (experiment.status === 'draft' || experiment.active === false) return result(-1);

  const { hashValue } = hashAttributeOf(context, experiment.hashAttribute, experiment.fallbackAttribute);
  if (!hashValue) return result(-1);
  if (experiment.filters) {
    if (filteredOut(experiment.filters, context)) return result(-1);
  } else if (experiment.namespace && !inNamespace(hashValue, experiment.namespace)) {
    return result(-1);
  }
  if (experiment.condition && !evalCondition(context.attributes ?? {}, experiment.condition, context.savedGroups ?? {})) return result(-1);
  if (experiment.parentConditions && !prerequisitesMet(experiment.parentConditions, context)) return result(-1);
  if (experiment.groups && !experiment.groups.some((group) => context.groups?.[group])) return result(-1);
  if (experiment.url && !urlMatches(experiment.url, context.url)) return result(-1);

  const n = hash(experiment.seed || experiment.key, hashValue, experiment.hashVersion || 1);
  if (n === null) return result(-1);
  const ranges = experiment.ranges ?? getBucketRanges(numVariations, experiment.coverage ?? 1, experiment.weights);
  const assigned = chooseVariation(n, ranges);
  if (assigned < 0) return result(-1);
  if ('force' in experiment) return result(experiment.force === undefined ? -1 : experiment.force);
  if (context.qaMode || experiment.status === 'stopped') return result(-1);
  return result(assigned, true, n);
}
