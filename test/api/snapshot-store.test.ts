import { describe, expect, it, vi } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const WELCOME = 'query { onboarding(user: { id: "steady-user" }) { flow { key } } }';

describe.each(DATABASE_KINDS)('runtime snapshots on %s', (kind) => {
  // Every snapshot is stale at once, so every request wants a background rebuild.
  const api = useTestApi(kind, { snapshotMaxAgeMs: 1 });
  const ws = useTestWorkspace(api);

  it('should keep serving the last snapshot while rebuilds fail, log the failure once, and retry after a backoff', async () => {
    const serve = async () => (await api.gql(ws.publicKey, WELCOME)).data?.onboarding?.flow.key;
    expect(await serve()).toBe('self-serve');
    const prisma = api.database.db.prisma;
    const environment = await prisma.environment.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'production' } });
    const builtAt = async () => (await api.app.services.snapshots.get(environment.id)).builtAt;
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await prisma.$executeRawUnsafe('ALTER TABLE "FlowRelease" RENAME TO "FlowRelease_away"');
    try {
      for (let i = 0; i < 20; i++) {
        expect(await serve()).toBe('self-serve');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const failures = () => warned.mock.calls.filter((call) => String(call[0]).includes('Snapshot rebuild failed')).length;
      expect(failures()).toBe(1);
      expect(String(warned.mock.calls.find((call) => String(call[0]).includes('Snapshot rebuild failed'))?.[0])).toMatch(/retryInMs=\d+/);

      const stale = await builtAt();
      await prisma.$executeRawUnsafe('ALTER TABLE "FlowRelease_away" RENAME TO "FlowRelease"');
      // The first retry waits between 0.5 and 1 s.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await serve()).toBe('self-serve');
      await expect.poll(builtAt).toBeGreaterThan(stale);
      expect(failures()).toBe(1);
    } finally {
      warned.mockRestore();
      await prisma.$executeRawUnsafe('ALTER TABLE IF EXISTS "FlowRelease_away" RENAME TO "FlowRelease"');
    }
  });
});
