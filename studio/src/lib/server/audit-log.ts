import { graphql } from '$lib/graphql';
import type { TApiClient } from './api';

/*
 * The audit log's only query. Its paging (limit and `before` a timestamp) is about to become a
 * cursor connection in the API; this module is the one place to adapt when it does: the settings
 * page only sees `entries` and the `before` value of the next older page.
 */
const AUDIT_LOG = graphql(`
  query AuditLog($action: String, $before: DateTime, $limit: Int) {
    auditLog(action: $action, before: $before, limit: $limit) { id actor action targetType data createdAt }
  }
`);
const PAGE_SIZE = 25;

/** One page of entries, newest first, optionally of one area (`flow.`); `older` is null on the last page. */
export async function auditLogPage(client: TApiClient, filter: { action: string | null; before: string | null }) {
  const { auditLog } = await client.request(AUDIT_LOG, { ...filter, limit: PAGE_SIZE });
  const last = auditLog.at(-1);
  return { entries: auditLog, older: last && auditLog.length === PAGE_SIZE ? last.createdAt : null };
}
