import { attributeText, getPath, type TCondition } from './condition.ts';

/**
 * An index of a placement's flows by the attribute value their audience requires, so that serving
 * a user evaluates only the audiences they can match: with a thousand targeted flows, a user is
 * checked against the few whose required value they have, plus the flows nothing can be said of.
 *
 * A condition's top-level keys must all hold, and a string compared to an attribute matches when
 * the attribute reads as that string (GrowthBook's rule: `String(value) === condition`). So a flow
 * whose audience has a top-level `attribute: "text"` cannot match a user whose attribute reads
 * otherwise, and is left out for them. The index only narrows: candidates are still evaluated.
 */
export type TAudienceIndex<T> = {
  /** Flows the index cannot narrow (no audience, or none with a top-level string equality). */
  unindexed: readonly T[];
  /** By attribute path, then by the value the audience requires. */
  byAttribute: ReadonlyMap<string, ReadonlyMap<string, readonly T[]>>;
  /** Each flow's position in the priority order. */
  position: ReadonlyMap<T, number>;
  byKey: ReadonlyMap<string, T>;
};

/** The top-level string equality an audience requires, if any; the first in key order. */
export function requiredEquality(condition: TCondition | null): { path: string; value: string } | null {
  if (!condition) return null;
  for (const [key, value] of Object.entries(condition)) {
    if (!key.startsWith('$') && typeof value === 'string') return { path: key, value };
  }
  return null;
}

export function indexAudiences<T extends { key: string; audience: TCondition | null }>(flows: readonly T[]): TAudienceIndex<T> {
  const unindexed: T[] = [];
  const byAttribute = new Map<string, Map<string, T[]>>();
  const position = new Map<T, number>();
  const byKey = new Map<string, T>();
  flows.forEach((flow, index) => {
    position.set(flow, index);
    byKey.set(flow.key, flow);
    const equality = requiredEquality(flow.audience);
    if (!equality) return unindexed.push(flow);
    let byValue = byAttribute.get(equality.path);
    if (!byValue) byAttribute.set(equality.path, (byValue = new Map()));
    const bucket = byValue.get(equality.value);
    if (bucket) bucket.push(flow);
    else byValue.set(equality.value, [flow]);
  });
  return { unindexed, byAttribute, position, byKey };
}

/** The flows whose audience this user may match, in priority order. */
export function candidateFlows<T>(index: TAudienceIndex<T>, attributes: unknown): readonly T[] {
  let candidates: T[] | null = null;
  for (const [path, byValue] of index.byAttribute) {
    const text = attributeText(getPath(attributes, path));
    const bucket = text === undefined ? undefined : byValue.get(text);
    if (!bucket) continue;
    candidates = candidates ? candidates.concat(bucket) : [...index.unindexed, ...bucket];
  }
  if (!candidates) return index.unindexed;
  return candidates.sort((a, b) => index.position.get(a)! - index.position.get(b)!);
}
