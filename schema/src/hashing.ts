/** FNV-1a over UTF-16 code units, as GrowthBook's SDKs compute it. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash += (hash << 1) + (hash << 4) + (hash << 7) + (hash << 8) + (hash << 24);
  }
  return hash >>> 0;
}

/** A deterministic number in [0, 1) for (seed, value); null for an unknown hash version. */
export function hash(seed: string, value: string, version: number): number | null {
  if (version === 2) return (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000;
  return null;
}

export type TBucketRange = [number, number];
/** `[id, start, end]`: a user is in the namespace when their hash falls in [start, end). */
export type TNamespace = [string, number, number];

export function getEqualWeights(numVariations: number): number[] {
  if (numVariations <= 0) return [];
  return new Array(numVariations).fill(1 / numVariations);
}

export function getBucketRanges(numVariations: number, coverage = 1, weights?: number[] | null): TBucketRange[] {
  const clampedCoverage = Math.min(1, Math.max(0, coverage));
  const equal = getEqualWeights(numVariations);
  let effective = weights ?? equal;
  if (effective.length !== numVariations) effective = equal;
  const total = effective.reduce((sum, w) => sum + w, 0);
  if (total < 0.99 || total > 1.01) effective = equal;
  let cumulative = 0;
  return effective.map((weight) => {
    const start = cumulative;
    cumulative += weight;
    return [start, start + clampedCoverage * weight];
  });
}

export function inRange(n: number, range: TBucketRange): boolean {
  return n >= range[0] && n < range[1];
}

export function chooseVariation(n: number, ranges: TBucketRange[]): number {
  return ranges.findIndex((range) => inRange(n, range));
}

export function inNamespace(userId: string, namespace: TNamespace): boolean {
  const n = hash(`__${namespace[0]}`, userId, 1);
  return n !== null && n >= namespace[1] && n < namespace[2];
}
