import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/**
 * GraphQL documents typed from the committed SDL (`api/schema.graphql`, turned into
 * `graphql-env.d.ts` by `pnpm gql`). DateTime travels as an ISO string; JSON is whatever the
 * API sent, so readers narrow it (with a zod schema) before trusting its shape.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; JSON: unknown };
}>();

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';
