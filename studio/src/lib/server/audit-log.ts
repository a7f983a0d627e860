import { graphql } from '$lib/graphql';
import type { TApiClient } from './api';

/*
 * The audit log's only query. The API pages it as a connection cut on (createdAt, id); the settings
 * page only sees `entries` and the cursor of the next older page.
 */
const AUDIT_LOG = graphql(`
  query AuditLog($action: String, $after: String, $first: Int) {
    auditLog(action: $action, after: $after, first: $first) {
      edges { node { id actor action targetType data createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
const PAGE_SIZE = 25;

/** One page of entries, newest first, optionally of one area (`flow.`); `older` is null on the last page. */
export async function auditLogPage(client: TApiClient, filter: { action: string | null; after: string | null }) {
  const { auditLog } = await client.request(AUDIT_LOG, { ...filter, first: PAGE_SIZE });
  return {
    entries: auditLog.edges.map((edge) => edge.node),
    older: auditLog.pageInfo.hasNextPage ? auditLog.pageInfo.endCursor : null,
  };
}
