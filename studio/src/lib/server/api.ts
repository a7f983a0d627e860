import { error, isHttpError, redirect } from '@sveltejs/kit';
import { getRequestEvent } from '$app/server';
import type { TadaDocumentNode } from 'gql.tada';
import { ClientError, GraphQLClient, type Variables } from 'graphql-request';
import { graphql, type ResultOf } from '$lib/graphql';
import { studioEnv } from './env';

export const SESSION_COOKIE = 'doorstep_session';

/** Operations without variables take none; the others require theirs, as the document declares them. */
type TVariablesArgs<TVariables> = Record<string, never> extends TVariables ? [variables?: TVariables] : [variables: TVariables];

/**
 * The API refused for now (too many attempts): a 429 whose message says when to try again. Forms
 * where a person retries (sign-in, password change) show it next to the field; anywhere else it is
 * the error page's message.
 */
export function isRateLimited(cause: unknown): cause is { status: 429; body: { message: string } } {
  return isHttpError(cause, 429);
}

/**
 * A GraphQL client acting as the signed-in member (or anonymously, for sign-in and setup). The
 * visitor's address is forwarded, so that the API's per-address limits (anonymous calls, sign-in
 * attempts) apply to each visitor rather than to the studio's server; the API believes it from
 * trusted proxies only (the local machine by default).
 */
export function api(token: string | undefined) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const visitor = visitorAddress();
  if (visitor) headers['x-forwarded-for'] = visitor;
  const client = new GraphQLClient(studioEnv.DOORSTEP_API_URL, { headers });
  return {
    /** Runs one operation; an expired session sends the member to sign in, other failures become plain errors. */
    async request<TResult, TVariables extends Variables>(
      document: TadaDocumentNode<TResult, TVariables>,
      ...[variables]: TVariablesArgs<TVariables>
    ): Promise<TResult> {
      try {
        return await client.request<TResult, Variables>(document, variables);
      } catch (cause) {
        if (cause instanceof ClientError) {
          const code = cause.response.errors?.[0]?.extensions?.code;
          if (code === 'UNAUTHENTICATED') redirect(303, '/login');
          if (code === 'FORBIDDEN') error(403, cause.response.errors?.[0]?.message ?? 'You do not have access to this');
          if (code === 'NOT_FOUND') error(404, cause.response.errors?.[0]?.message ?? 'Not found');
          if (code === 'RATE_LIMITED') error(429, cause.response.errors?.[0]?.message ?? 'Too many attempts; try again later');
        }
        console.error('API request failed', cause);
        error(502, 'The Doorstep API did not answer as expected. Try again in a moment.');
      }
    },
  };
}

function visitorAddress(): string | undefined {
  try {
    return getRequestEvent().getClientAddress();
  } catch {
    // Outside a request (start-up checks): the studio's own call.
    return undefined;
  }
}

export type TApiClient = ReturnType<typeof api>;

/**
 * What every mutation selects on its typed failures (`... on Error { ...ApiError }`). Unmasked, so
 * the fields read as part of the result; `issues` says which field a validation problem is about.
 */
export const ApiError = graphql(`
  fragment ApiError on Error @_unmask {
    __typename
    code
    message
    ... on ValidationError { issues { path message } }
  }
`);
export type TApiError = ResultOf<typeof ApiError>;

/** Typed mutation results carry `code` when they failed; this splits them from successes. */
export function isApiError<T extends object>(result: T): result is Extract<T, { code: string }> {
  return 'code' in result && 'message' in result;
}
