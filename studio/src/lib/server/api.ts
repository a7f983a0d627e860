import { error, redirect } from '@sveltejs/kit';
import { ClientError, GraphQLClient } from 'graphql-request';
import { studioEnv } from './env';

export const SESSION_COOKIE = 'doorstep_session';

/** A GraphQL client acting as the signed-in member (or anonymously, for sign-in and setup). */
export function api(token: string | undefined) {
  const client = new GraphQLClient(studioEnv.DOORSTEP_API_URL, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    /** Runs one operation; an expired session sends the member to sign in, other failures become plain errors. */
    async request<T = any>(document: string, variables?: Record<string, unknown>): Promise<T> {
      try {
        return await client.request<T>(document, variables);
      } catch (cause) {
        if (cause instanceof ClientError) {
          const code = cause.response.errors?.[0]?.extensions?.code;
          if (code === 'UNAUTHENTICATED') redirect(303, '/login');
          if (code === 'FORBIDDEN') error(403, cause.response.errors?.[0]?.message ?? 'You do not have access to this');
          if (code === 'NOT_FOUND') error(404, cause.response.errors?.[0]?.message ?? 'Not found');
        }
        console.error('API request failed', cause);
        error(502, 'The Doorstep API did not answer as expected. Try again in a moment.');
      }
    },
  };
}

/** Typed mutation results carry `code` when they failed; this splits them from successes. */
export type TApiError = { __typename: string; code: string; message: string; issues?: Array<{ path: string; message: string }>; currentRevision?: number | null };
export function isApiError(result: unknown): result is TApiError {
  return !!result && typeof result === 'object' && 'code' in result && 'message' in result;
}
