import { cpSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../api/src/db/database.ts';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../../api/src/db/migrator.ts';
import { starterContent } from '../../api/src/domain/starter-content.ts';
import { getDatamodel } from '../../api/src/generated/pothos-types.ts';
import { createPostgresDatabase, createTestDatabase, DATABASE_KINDS, type TTestDatabase } from '../support/databases.ts';

type TColumn = { table_name: string; column_name: string; is_nullable: 'YES' | 'NO'; data_type: string; udt_name: string };

const PRISMA_TO_UDT: Record<string, string[]> = {
  String: ['text', 'uuid'], Int: ['int4'], BigInt: ['int8'], Float: ['float8'], Boolean: ['bool'], DateTime: ['timestamp'], Json: ['jsonb'],
};

describe.each(DATABASE_KINDS)('migrations on %s', (kind) => {
  let database: TTestDatabase;
  beforeAll(async () => { database = await createTestDatabase(kind); });
  afterAll(async () => { await database.drop(); });

  it('should create every model and scalar field of schema.prisma with matching types and nullability', async () => {
    const columns = await database.db.withSession((s) => s.query<TColumn>(
      `SELECT table_name, column_name, is_nullable, data_type, udt_name FROM information_schema.columns WHERE table_schema = 'public'`,
    ));
    const byTable = new Map<string, Map<string, TColumn>>();
    for (const c of columns) {
      if (!byTable.has(c.table_name)) byTable.set(c.table_name, new Map());
      byTable.get(c.table_name)!.set(c.column_name, c);
    }
    const { models, enums } = getDatamodel().datamodel as any;
    const enumNames = new Set(Object.keys(enums ?? {}));
    for (const [model, { fields }] of Object.entries<any>(models)) {
      const table = byTable.get(model);
      expect(table, `table ${model}`).toBeDefined();
      const scalars = fields.filter((f: any) => f.kind === 'scalar' || f.kind === 'enum');
      for (const field of scalars) {
        const column = table!.get(field.name);
        expect(column, `${model}.${field.name}`).toBeDefined();
        // Prisma creates scalar lists as nullable array columns with an empty-array default.
        expect(column!.is_nullable, `${model}.${field.name} nullability`).toBe(field.isRequired && !field.isList ? 'NO' : 'YES');
        const udt = field.isList ? column!.udt_name.replace(/^_/, '') : column!.udt_name;
        if (field.kind === 'enum' || enumNames.has(field.type)) expect(udt, `${model}.${field.name} type`).toBe(field.type);
        else expect(PRISMA_TO_UDT[field.type], `${model}.${field.name} type ${udt}`).toContain(udt);
      }
      expect(table!.size, `${model} has no columns beyond schema.prisma`).toBe(scalars.length);
    }
    expect([...byTable.keys()].sort()).toEqual([...Object.keys(models), '_prisma_migrations'].sort());
  });

  it('should index what the runtime and the audit log look up, and allow one running experiment per flow and environment', async () => {
    const indexes = await database.db.withSession((s) => s.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'`));
    const definitions = indexes.map((i) => i.indexdef.replace(/ USING btree/, ''));
    expect(definitions).toContainEqual(expect.stringContaining('ON public."FlowServe" ("environmentId", "userId")'));
    expect(definitions).toContainEqual(expect.stringContaining('ON public."AuditEntry" ("workspaceId", "createdAt", id)'));
    expect(definitions).toContainEqual(expect.stringMatching(/CREATE UNIQUE INDEX .* ON public."Experiment" \("flowId", "environmentId"\) WHERE \(status = 'running'/));
  });

  it('should round-trip every model through the Prisma client', async () => {
    const prisma = database.db.prisma;
    const ws = await prisma.workspace.create({ data: { slug: `mig-${kind}`, name: 'Migrations' } });
    const env = await prisma.environment.create({ data: { workspaceId: ws.id, key: 'production', name: 'Production' } });
    await prisma.apiKey.create({ data: { workspaceId: ws.id, environmentId: env.id, kind: 'public', role: null, name: 'k', prefix: 'dpk_x', secretHash: `h-${kind}`, createdBy: 't', revokedAt: new Date() } });
    const segment = await prisma.segment.create({ data: { workspaceId: ws.id, key: 's', name: 'S', condition: { a: { $gt: 1 } } } });
    const flow = await prisma.flow.create({
      data: { workspaceId: ws.id, key: 'f', name: 'F', priority: 3, segmentId: segment.id, archivedAt: new Date(), draft: { create: { content: starterContent('F'), updatedBy: 't' } } },
    });
    const version = await prisma.flowVersion.create({ data: { flowId: flow.id, number: 1, content: starterContent('F'), createdBy: 't' } });
    await prisma.flowRelease.create({ data: { flowId: flow.id, environmentId: env.id, versionId: version.id, updatedBy: 't' } });
    await prisma.pointerMove.create({ data: { flowId: flow.id, environmentId: env.id, kind: 'rollback', fromVersionId: version.id, toVersionId: version.id, actor: 't' } });
    const profile = await prisma.userProfile.create({ data: { environmentId: env.id, externalId: 'u', answers: { role: 'dev' } } });
    await prisma.flowProgress.create({ data: { profileId: profile.id, flowId: flow.id, completedStepIds: ['a', 'b'], completed: true, dismissed: true } });
    await prisma.event.create({ data: { environmentId: env.id, clientEventId: 'e', userId: 'u', name: 'n', timestamp: new Date(), flowKey: 'f', stepId: 's', questionId: 'q', value: ['x'], properties: { p: 1 } } });
    await prisma.auditEntry.create({ data: { workspaceId: ws.id, actor: 't', action: 'a', targetType: 't', targetId: 'x', data: { d: 1 } } });
    const member = await prisma.member.create({ data: { workspaceId: ws.id, email: `m-${kind}@x.example`, name: 'M', role: 'publisher', passwordHash: 'h', inviteTokenHash: `i-${kind}`, inviteExpiresAt: new Date() } });
    await prisma.session.create({ data: { memberId: member.id, tokenHash: `s-${kind}`, expiresAt: new Date() } });
    const experiment = await prisma.experiment.create({
      data: {
        workspaceId: ws.id, flowId: flow.id, environmentId: env.id, key: 'x', name: 'X', status: 'stopped', variants: [{ key: 'a', versionNumber: 1, weight: 1 }],
        coverage: 0.25, seed: 's', hashAttribute: 'id', fallbackAttribute: 'anonId', namespace: ['n', 0, 0.5], activationWindowHours: 24,
        startedAt: new Date(), stoppedAt: new Date(), winnerVariantKey: 'a', createdBy: 't',
      },
    });
    await prisma.exposure.create({ data: { experimentId: experiment.id, userId: 'u', variantKey: 'a', segmentKeys: ['s'] } });
    await prisma.flowServe.create({ data: { environmentId: env.id, flowKey: 'f', userId: 'u', segmentKeys: ['s'] } });

    const loaded = await prisma.workspace.findUniqueOrThrow({
      where: { id: ws.id },
      include: {
        environments: { include: { apiKeys: true, releases: true, pointerMoves: true, profiles: { include: { progress: true } }, events: true, flowServes: true } },
        flows: { include: { draft: true, versions: true, segment: true } },
        auditEntries: true,
        members: { include: { sessions: true } },
        experiments: { include: { exposures: true } },
      },
    });
    expect(loaded.environments[0].profiles[0].progress[0].completedStepIds).toEqual(['a', 'b']);
    expect(loaded.environments[0].events[0].value).toEqual(['x']);
    expect(loaded.flows[0].segment!.condition).toEqual({ a: { $gt: 1 } });
    expect(loaded.environments[0].pointerMoves[0].kind).toBe('rollback');
    expect(loaded.members[0].sessions).toHaveLength(1);
    expect(loaded.environments[0].flowServes[0].segmentKeys).toEqual(['s']);
    expect(loaded.experiments[0]).toMatchObject({ coverage: 0.25, namespace: ['n', 0, 0.5], exposures: [{ segmentKeys: ['s'] }] });
    await prisma.workspace.delete({ where: { id: ws.id } });
    expect(await prisma.flowVersion.count({ where: { flowId: flow.id } })).toBe(0);
  });

  it('should apply nothing when run again', async () => {
    expect(await migrate(database.db)).toEqual([]);
  });

  it('should refuse to run when an applied migration was edited', async () => {
    const [first] = readMigrations();
    await expect(migrate(database.db, [{ ...first, checksum: 'edited' }])).rejects.toThrow(/changed after it was applied/);
  });

  it('should roll back a failing migration entirely and not record it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'doorstep-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    mkdirSync(join(dir, '29990101000000_broken'));
    writeFileSync(join(dir, '29990101000000_broken', 'migration.sql'), 'CREATE TABLE "Half" (id int);\nSELECT no_such_function();');
    await expect(migrate(database.db, readMigrations(dir))).rejects.toThrow(/29990101000000_broken failed/);
    const tables = await database.db.withSession((s) => s.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'Half'`));
    expect(tables).toHaveLength(0);
    const recorded = await database.db.withSession((s) => s.query(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`));
    expect(recorded).toHaveLength(0);
  });
});

describe('migrations on postgres with two API processes starting at once', () => {
  it('should apply each migration exactly once', async () => {
    const target = await createPostgresDatabase();
    const [a, b] = await Promise.all([openDatabase({ databaseUrl: target.url }), openDatabase({ databaseUrl: target.url })]);
    try {
      const results = await Promise.all([migrate(a), migrate(b)]);
      const names = readMigrations().map((m) => m.name);
      expect(results.flat().sort()).toEqual(names.sort());
      const rows = await a.withSession((s) => s.query(`SELECT migration_name FROM "_prisma_migrations"`));
      expect(rows).toHaveLength(names.length);
    } finally {
      await a.close();
      await b.close();
      await target.drop();
    }
  });
});
