import { Prisma } from '../generated/prisma/client.ts';

/**
 * In an upsert of `FlowProgress`, a list column (steps done, items ticked) merged as progress lists
 * merge everywhere (`applyProgressChange` in `@doorstep/schema`): the stored ids in their order, then
 * the incoming ones it lacks. One statement, so concurrent writers add to each other.
 */
export function mergedProgressIds(column: 'completedStepIds' | 'checkedItemIds'): Prisma.Sql {
  const stored = Prisma.raw(`COALESCE("FlowProgress"."${column}", '{}')`);
  const incoming = Prisma.raw(`EXCLUDED."${column}"`);
  return Prisma.sql`${stored} || ARRAY(SELECT s FROM unnest(${incoming}) s WHERE NOT (s = ANY(${stored})))`;
}
