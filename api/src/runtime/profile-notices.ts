import { log } from '../log.ts';
import type { TProfilesChange } from './change-bus.ts';

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; the envelope needs some of it. */
const MAX_NOTICE_BYTES = 7_000;
const COALESCE_MS = 5;

/**
 * Tells the other API processes which users' state changed, so they drop those cached profiles.
 * Changes within a few milliseconds share one notification (per environment, within the payload
 * limit): under load, one NOTIFY carries many users instead of one per `track`.
 */
export class ProfileNotices {
  private pending = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly publish: (change: TProfilesChange) => Promise<void>) {}

  add(environmentId: string, userIds: readonly string[]): void {
    if (userIds.length === 0) return;
    let users = this.pending.get(environmentId);
    if (!users) this.pending.set(environmentId, (users = new Set()));
    for (const userId of userIds) users.add(userId);
    this.timer ??= setTimeout(() => void this.flush(), COALESCE_MS);
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batches = [...this.pending].flatMap(([environmentId, users]) => chunks(environmentId, [...users]));
    this.pending = new Map();
    this.sending = this.sending.then(async () => {
      for (const change of batches) {
        // Not retried: a lost notice leaves another process's copy stale only until its cache entry
        // expires (the profile TTL), and a listener that reconnects drops every cached profile.
        await this.publish(change).catch((error: unknown) => log.warn('Could not notify other API processes of changed profiles', {
          users: change.userIds.length, error: error instanceof Error ? error.message : String(error),
        }));
      }
    });
    return this.sending;
  }
}

function chunks(environmentId: string, userIds: string[]): TProfilesChange[] {
  const changes: TProfilesChange[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const userId of userIds) {
    const size = Buffer.byteLength(JSON.stringify(userId)) + 1;
    if (current.length > 0 && bytes + size > MAX_NOTICE_BYTES) {
      changes.push({ type: 'profiles', environmentId, userIds: current });
      current = [];
      bytes = 0;
    }
    current.push(userId);
    bytes += size;
  }
  if (current.length > 0) changes.push({ type: 'profiles', environmentId, userIds: current });
  return changes;
}
