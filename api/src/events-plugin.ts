import { unstorableText } from '@doorstep/schema';
import type { Plugin } from 'graphql-yoga';
import { kindOfSecret } from './auth/api-keys.ts';
import { assertOriginAllowed } from './auth/origins.ts';
import { DoorstepError, type TErrorCode } from './errors.ts';
import { log } from './log.ts';
import type { TServices } from './services.ts';

export const EVENTS_PATH = '/events';

/**
 * `GET /events`: a server-sent-events stream per environment that says only "something changed,
 * refetch", with the environment's new content ETag, in the shape of OpenFeature's OFREP event
 * streams (ADR-0008: `data: {"type":"refetchEvaluation","etag":…}` on the default `message` event,
 * the ETag as the event `id`, so a reconnecting EventSource's `Last-Event-ID` says what it last saw).
 *
 * Authentication: the environment's public key, as `Authorization: Bearer dpk_…` or, because a
 * browser's EventSource cannot send headers, as `?key=dpk_…`. A public key ships inside apps and
 * is readable by anyone who opens one, so a URL (logs, history, Referer) reveals nothing more; a
 * secret key or a session in a URL would, so those are refused there and answered with advice to
 * rotate. Management credentials (the studio's server) may stream in the header, naming the
 * environment with `?environment=production`.
 */
export function useEventStream(services: TServices): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (url.pathname !== EVENTS_PATH) return;
      try {
        endResponse(await openStream(services, request, url));
      } catch (error) {
        if (error instanceof DoorstepError) return endResponse(refusal(error.code === 'FORBIDDEN' ? 403 : 400, error.code, error.message));
        log.error('Event stream failed to open', {}, error);
        endResponse(refusal(500, 'INTERNAL', 'Unexpected error'));
      }
    },
  };
}

async function openStream(services: TServices, request: Request, url: URL): Promise<Response> {
  if (request.method !== 'GET') return refusal(405, 'METHOD_NOT_ALLOWED', 'Use GET', { allow: 'GET' });
  const queryKey = url.searchParams.get('key');
  if (queryKey !== null && kindOfSecret(queryKey) !== 'public') {
    return refusal(403, 'FORBIDDEN', 'Only a public key (dpk_…) may be sent in the URL. A secret key or session in a URL ends up in logs and history: revoke it and send credentials in the Authorization header');
  }
  const authorization = request.headers.get('authorization') ?? (queryKey === null ? null : `Bearer ${queryKey}`);
  const principal = await services.keys.resolve(authorization);
  if (!principal) return refusal(401, 'UNAUTHENTICATED', 'Send the environment\'s public key as "Authorization: Bearer dpk_…" or as ?key=dpk_…');

  let target: { environmentId: string; workspaceId: string };
  if (principal.kind === 'public') {
    assertOriginAllowed(principal, request.headers.get('origin'));
    target = { environmentId: principal.environmentId, workspaceId: principal.workspaceId };
  } else {
    const key = url.searchParams.get('environment');
    if (!key) return refusal(400, 'VALIDATION', 'Name the environment: ?environment=production');
    // The database refuses to compare text holding NUL (?environment=%00) rather than finding nothing.
    const unstorable = unstorableText(key);
    if (unstorable) return refusal(400, 'VALIDATION', `environment: ${unstorable}`);
    const environment = await services.db.prisma.environment.findFirst({ where: { workspaceId: principal.workspaceId, key }, select: { id: true } });
    if (!environment) return refusal(404, 'NOT_FOUND', `No environment "${key}" in this workspace`);
    target = { environmentId: environment.id, workspaceId: principal.workspaceId };
  }

  const opened = await services.streams.open(target, request.headers.get('last-event-id'));
  if (!opened.ok) {
    return refusal(opened.status, opened.status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE', opened.message, { 'retry-after': String(opened.retryAfterSeconds) });
  }
  return new Response(opened.body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // nginx buffers proxied responses unless told not to; a buffered stream notifies nobody.
      'x-accel-buffering': 'no',
      // The connection serves nothing after the stream: closing it with the stream lets a shutting-down server finish.
      connection: 'close',
    },
  });
}

function refusal(status: number, code: TErrorCode | 'METHOD_NOT_ALLOWED' | 'UNAVAILABLE' | 'INTERNAL', message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), { status, headers: { 'content-type': 'application/json', ...headers } });
}
