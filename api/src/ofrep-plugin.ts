import { createHash } from 'node:crypto';
import { ZLocale, ZRuntimeUser, type TResolvedOnboarding } from '@doorstep/schema';
import type { Plugin } from 'graphql-yoga';
import { mayActAs } from './auth/identity.ts';
import { assertOriginAllowed } from './auth/origins.ts';
import { DoorstepError } from './errors.ts';
import { MAX_NESTING, nestsDeeper } from './input-limits-plugin.ts';
import { log } from './log.ts';
import { serveOnboarding } from './runtime/serve-onboarding.ts';
import type { TServices } from './services.ts';

const BASE = '/ofrep/v1/evaluate/flags';
/** The flag whose value is the key of the flow a user is served now ('' when none). */
export const ONBOARDING_FLAG = 'onboarding';

type TEvaluation = { key: string; value: string | boolean; reason: 'TARGETING_MATCH' | 'DEFAULT'; variant: string; metadata: Record<string, string | number | boolean> };
type TFailure = { key?: string; errorCode: string; errorDetails: string };

/**
 * The OpenFeature Remote Evaluation Protocol under /ofrep/v1 (single and bulk evaluation, ETag on
 * bulk), so any OpenFeature SDK can ask which flow and variant a user gets. Flags: `onboarding` (the
 * served flow's key, '' for none) and one boolean flag per published flow (served now or not); the
 * variant is the experiment variant served, `released` outside an experiment, `none` when nothing is
 * served. The evaluation context's `targetingKey` is the user id, `locale` and `userHash` (identity
 * verification) are read, every other field is a user attribute. Evaluating serves: first serves
 * and exposures are recorded as for `onboarding`.
 */
export function useOfrep(services: TServices): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (url.pathname !== BASE && !url.pathname.startsWith(`${BASE}/`)) return;
      let flagKey: string | null;
      try {
        flagKey = url.pathname === BASE ? null : decodeURIComponent(url.pathname.slice(BASE.length + 1));
      } catch {
        endResponse(json(400, { errorCode: 'PARSE_ERROR', errorDetails: 'The flag key in the path is not valid percent-encoding' }));
        return;
      }
      try {
        endResponse(await evaluate(services, request, flagKey));
      } catch (error) {
        log.error('OFREP evaluation failed', { path: url.pathname }, error);
        endResponse(json(500, { errorCode: 'GENERAL', errorDetails: 'Unexpected error' }));
      }
    },
  };
}

async function evaluate(services: TServices, request: Request, flagKey: string | null): Promise<Response> {
  const failure = (status: number, errorCode: string, errorDetails: string) =>
    json(status, { ...(flagKey === null ? {} : { key: flagKey }), errorCode, errorDetails } satisfies TFailure);
  if (request.method !== 'POST') return failure(405, 'GENERAL', 'Use POST');

  const principal = await services.keys.resolve(request.headers.get('authorization'));
  if (!principal) return failure(401, 'GENERAL', 'Send a public key as "Authorization: Bearer dpk_…"');
  if (principal.kind !== 'public') return failure(403, 'GENERAL', 'OFREP takes the public key of an environment');
  try {
    assertOriginAllowed(principal, request.headers.get('origin'));
  } catch (error) {
    if (error instanceof DoorstepError) return failure(403, 'GENERAL', error.message);
    throw error;
  }

  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return failure(400, 'PARSE_ERROR', 'The body must be JSON: { "context": { "targetingKey": "user-id", ... } }');
  }
  const context = (body && typeof body === 'object' && 'context' in body ? body.context : null) ?? {};
  if (typeof context !== 'object' || Array.isArray(context)) return failure(400, 'INVALID_CONTEXT', 'context must be an object');
  // As GraphQL variables are bounded (input-limits-plugin.ts): validating attributes recurses, and
  // thousands of levels overflow the stack.
  if (nestsDeeper(context, MAX_NESTING)) return failure(400, 'INVALID_CONTEXT', `context nests deeper than ${MAX_NESTING} levels of objects and lists`);
  const { targetingKey, locale: rawLocale, userHash, ...attributes } = context as Record<string, unknown>;
  if (typeof targetingKey !== 'string' || targetingKey === '') return failure(400, 'TARGETING_KEY_MISSING', 'Set context.targetingKey to the user id');
  const user = ZRuntimeUser.safeParse({ id: targetingKey, attributes });
  if (!user.success) return failure(400, 'INVALID_CONTEXT', user.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const locale = rawLocale === undefined ? null : ZLocale.safeParse(rawLocale);
  if (locale && !locale.success) return failure(400, 'INVALID_CONTEXT', `locale: ${locale.error.issues[0]?.message}`);
  if (!mayActAs(principal.identitySecret, user.data.id, typeof userHash === 'string' ? userHash : null)) {
    return failure(403, 'GENERAL', 'Identity verification is on: context.userHash must be the HMAC-SHA256 of targetingKey, computed by your backend');
  }

  const { onboarding, snapshot } = await serveOnboarding(services, principal.environmentId, user.data, locale?.data ?? null);
  const flowKeys = snapshot.flows.map((flow) => flow.key);
  if (flagKey !== null) {
    if (flagKey !== ONBOARDING_FLAG && !flowKeys.includes(flagKey)) return failure(404, 'FLAG_NOT_FOUND', `No flag "${flagKey}": use "${ONBOARDING_FLAG}" or a published flow key`);
    return json(200, flagFor(flagKey, onboarding));
  }
  const payload = JSON.stringify({ flags: [ONBOARDING_FLAG, ...flowKeys].map((key) => flagFor(key, onboarding)) });
  const etag = `W/"${createHash('sha1').update(payload).digest('base64url')}"`;
  const headers = { etag, 'cache-control': 'private, no-cache', vary: 'Authorization' };
  const unchanged = request.headers.get('if-none-match')?.split(',').some((tag) => tag.trim() === etag);
  return unchanged ? new Response(null, { status: 304, headers }) : new Response(payload, { status: 200, headers: { ...headers, 'content-type': 'application/json' } });
}

function flagFor(key: string, onboarding: TResolvedOnboarding | null): TEvaluation {
  const served = onboarding !== null && (key === ONBOARDING_FLAG || key === onboarding.flow.key);
  const variant = !served ? 'none' : (onboarding.variant?.key ?? 'released');
  const metadata: TEvaluation['metadata'] = served ? { flowKey: onboarding.flow.key, version: onboarding.version } : {};
  const value = key === ONBOARDING_FLAG ? (onboarding?.flow.key ?? '') : served;
  return { key, value, reason: served ? 'TARGETING_MATCH' : 'DEFAULT', variant, metadata };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
