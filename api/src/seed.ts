import { DEFAULT_ENVIRONMENTS, ZCondition } from '@doorstep/schema';
import { DEMO_WORKSPACE, demoFlows } from '../../seeds/demo.ts';
import { fromSecret, generateApiKey } from './auth/api-keys.ts';
import { hashPassword } from './auth/passwords.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { auditedTransaction } from './domain/management-write.ts';
import { publishDraft } from './domain/publishing.ts';

const SEED_ACTOR = 'system:seed';

export type TSeedKeys = { secretKey?: string; publicKey?: string };
export type TSeedResult = { workspaceId: string; secretKey: string; publicKey: string; stagingPublicKey: string };

/**
 * Loads the demo workspace when the database has no workspace yet; returns null otherwise. Seed keys
 * given to an existing database are added to the demo workspace, so they work on every start.
 */
export async function seedIfEmpty(prisma: PrismaClient, keys: TSeedKeys = {}): Promise<TSeedResult | null> {
  if ((await prisma.workspace.count()) > 0) {
    await ensureSeedKeys(prisma, keys);
    return null;
  }
  return seedDemo(prisma, keys);
}

async function ensureSeedKeys(prisma: PrismaClient, keys: TSeedKeys): Promise<void> {
  const workspace = await prisma.workspace.findUnique({ where: { slug: DEMO_WORKSPACE.slug }, include: { environments: true } });
  const production = workspace?.environments.find((e) => e.key === 'production');
  if (!workspace || !production) return;
  const wanted = [
    keys.secretKey && { ...fromSecret(keys.secretKey), kind: 'secret' as const, role: 'admin' as const, environmentId: null, name: 'Seeded admin' },
    keys.publicKey && { ...fromSecret(keys.publicKey), kind: 'public' as const, role: null, environmentId: production.id, name: 'Seeded app (production)' },
  ].filter((key) => !!key);
  for (const { secret: _secret, ...key } of wanted) {
    const existing = await prisma.apiKey.findUnique({ where: { secretHash: key.secretHash } });
    if (!existing) await prisma.apiKey.create({ data: { ...key, workspaceId: workspace.id, createdBy: SEED_ACTOR } });
  }
}

export async function seedDemo(prisma: PrismaClient, keys: TSeedKeys = {}, workspace = DEMO_WORKSPACE): Promise<TSeedResult> {
  const flows = demoFlows();
  const secret = keys.secretKey ? fromSecret(keys.secretKey) : generateApiKey('secret');
  const publicKey = keys.publicKey ? fromSecret(keys.publicKey) : generateApiKey('public');
  const stagingKey = generateApiKey('public');

  const workspaceId = await auditedTransaction(prisma, { change: async (tx) => {
    const ws = await tx.workspace.create({ data: workspace });
    const environments = new Map<string, string>();
    for (const env of DEFAULT_ENVIRONMENTS) {
      const created = await tx.environment.create({ data: { ...env, workspaceId: ws.id } });
      environments.set(env.key, created.id);
    }
    await tx.apiKey.createMany({
      data: [
        { workspaceId: ws.id, kind: 'secret', role: 'admin', name: 'Demo admin', prefix: secret.prefix, secretHash: secret.secretHash, createdBy: SEED_ACTOR },
        { workspaceId: ws.id, kind: 'public', environmentId: environments.get('production')!, name: 'Demo app (production)', prefix: publicKey.prefix, secretHash: publicKey.secretHash, createdBy: SEED_ACTOR },
        { workspaceId: ws.id, kind: 'public', environmentId: environments.get('staging')!, name: 'Demo app (staging)', prefix: stagingKey.prefix, secretHash: stagingKey.secretHash, createdBy: SEED_ACTOR },
      ],
    });
    const who = { workspaceId: ws.id, actor: SEED_ACTOR };
    for (const flow of flows) {
      const created = await tx.flow.create({
        data: {
          workspaceId: ws.id,
          key: flow.key,
          name: flow.name,
          priority: flow.priority,
          placement: flow.placement,
          audienceCondition: flow.audience ? ZCondition.parse(flow.audience) : undefined,
          draft: { create: { content: flow.content, updatedBy: SEED_ACTOR } },
        },
      });
      for (const environmentId of environments.values()) await publishDraft(tx, who, created.id, environmentId, null, 'keep');
    }
    return { value: ws.id, by: who, audit: { action: 'workspace.seed', targetType: 'workspace', targetId: ws.id, data: { flows: flows.map((f) => f.key) } } };
  } }, { timeoutMs: 30_000 });

  return { workspaceId, secretKey: secret.secret, publicKey: publicKey.secret, stagingPublicKey: stagingKey.secret };
}

/** Creates the admin named by DOORSTEP_SEED_ADMIN_* in the demo (or first) workspace, once. */
export async function ensureSeedAdmin(prisma: PrismaClient, email: string, password: string): Promise<boolean> {
  const normalized = email.trim().toLowerCase();
  const workspace = (await prisma.workspace.findUnique({ where: { slug: DEMO_WORKSPACE.slug } })) ?? (await prisma.workspace.findFirst({ orderBy: { createdAt: 'asc' } }));
  if (!workspace) return false;
  if (await prisma.member.findUnique({ where: { workspaceId_email: { workspaceId: workspace.id, email: normalized } } })) return false;
  await prisma.member.create({ data: { workspaceId: workspace.id, email: normalized, name: normalized.split('@')[0], role: 'admin', passwordHash: await hashPassword(password) } });
  return true;
}
