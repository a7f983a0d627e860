import { expect } from 'vitest';
import type { TGraphQLResponse } from './api.ts';

export type TGql = (key: string, query: string, variables?: Record<string, unknown>) => Promise<TGraphQLResponse>;

/** Changes the welcome title of the demo's `self-serve` flow and publishes it to production, as a publisher would. */
export async function publishTitle(gql: TGql, secretKey: string, title: string): Promise<void> {
  const { draft } = (await gql(secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data.flow;
  const saved = await gql(secretKey, 'mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename } }', {
    c: { ...draft.content, welcome: { ...draft.content.welcome, title } }, r: draft.revision,
  });
  expect(saved.data.saveDraft.__typename).toBe('FlowDraft');
  const published = await gql(secretKey, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename } }');
  expect(published.data.publishFlow.__typename).toBe('FlowRelease');
}
