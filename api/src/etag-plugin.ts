import { createHash } from 'node:crypto';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Weak ETags on successful query responses; a matching If-None-Match gets 304 with no body, so a
 * client polling unchanged onboarding content downloads nothing.
 */
export function useETag(): Plugin {
  const queries = new WeakSet<Request>();
  return {
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      if (request && operation?.operation === 'query') queries.add(request);
    },
    async onResponse({ request, response, setResponse }) {
      if (!queries.has(request) || response.status !== 200) return;
      const body = await response.text();
      const etag = `W/"${createHash('sha1').update(body).digest('base64url')}"`;
      const headers = new Headers(response.headers);
      // The body is rebuilt (or dropped, for 304): a copied length would make clients wait for bytes.
      headers.delete('content-length');
      headers.set('etag', etag);
      headers.append('vary', 'Authorization');
      headers.set('cache-control', 'private, no-cache');
      const matches = request.headers.get('if-none-match')?.split(',').some((tag) => tag.trim() === etag);
      if (matches) headers.delete('content-type');
      setResponse(matches ? new Response(null, { status: 304, headers }) : new Response(body, { status: 200, headers }));
    },
  };
}
