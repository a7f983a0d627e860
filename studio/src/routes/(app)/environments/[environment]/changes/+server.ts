import { studioEnv } from '$lib/server/env';
import type { RequestHandler } from './$types';

/**
 * The API's change stream of one environment (`GET /events`), for the signed-in member's browser.
 * The studio holds no public key and the session cookie is the studio's, not the API's, so the
 * studio's server opens the stream with the member's session (in a header, never a URL) and passes
 * it through; it ends when the browser goes away.
 */
export const GET: RequestHandler = async ({ locals, params, request }) => {
  const url = new URL(studioEnv.DOORSTEP_API_URL.replace(/\/graphql\/?$/, '/events'));
  url.searchParams.set('environment', params.environment);
  const upstream = await fetch(url, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${locals.token}`, ...lastEventId(request) },
    signal: request.signal,
  }).catch(() => null);
  if (!upstream?.ok || !upstream.body) {
    // Not text/event-stream: EventSource stops instead of retrying every few seconds.
    return new Response(null, { status: upstream?.status === 404 ? 404 : 502, headers: upstream?.headers.get('retry-after') ? { 'retry-after': upstream.headers.get('retry-after')! } : {} });
  }
  return new Response(upstream.body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
  });
};

const lastEventId = (request: Request): Record<string, string> => {
  const id = request.headers.get('last-event-id');
  return id ? { 'last-event-id': id } : {};
};
