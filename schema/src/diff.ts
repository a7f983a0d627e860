export type TDiffChange = {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  before: unknown;
  after: unknown;
};

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const hasIds = (list: unknown[]): list is Array<{ id: string }> =>
  list.length > 0 && list.every((item) => isRecord(item) && typeof item.id === 'string');

/**
 * A structural diff. Lists of items with ids are matched by id, so reordering or inserting a step
 * reports what really changed instead of every later index.
 */
export function diffContent(before: unknown, after: unknown, path = ''): TDiffChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (before === undefined) return [{ path, kind: 'added', before, after }];
  if (after === undefined) return [{ path, kind: 'removed', before, after }];
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffContent(before[key], after[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (hasIds(before) && hasIds(after)) return diffById(before, after, path);
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, i) => diffContent(before[i], after[i], `${path}[${i}]`)).flat();
  }
  return [{ path, kind: 'changed', before, after }];
}

function diffById(before: Array<{ id: string }>, after: Array<{ id: string }>, path: string): TDiffChange[] {
  const beforeById = new Map(before.map((item) => [item.id, item]));
  const afterById = new Map(after.map((item) => [item.id, item]));
  const changes: TDiffChange[] = [];
  for (const item of before) {
    if (!afterById.has(item.id)) changes.push({ path: `${path}[id=${item.id}]`, kind: 'removed', before: item, after: undefined });
  }
  for (const item of after) {
    changes.push(...diffContent(beforeById.get(item.id), item, `${path}[id=${item.id}]`));
  }
  const order = (list: Array<{ id: string }>) => list.map((i) => i.id).filter((id) => beforeById.has(id) && afterById.has(id));
  if (JSON.stringify(order(before)) !== JSON.stringify(order(after))) {
    changes.push({ path: `${path}.order`, kind: 'changed', before: before.map((i) => i.id), after: after.map((i) => i.id) });
  }
  return changes;
}
