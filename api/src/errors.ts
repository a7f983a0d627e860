import { GraphQLError } from 'graphql';
import type { TValidationIssue } from '@doorstep/schema';

export const ERROR_CODES = ['VALIDATION', 'CONFLICT', 'NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED', 'RATE_LIMITED'] as const;
export type TErrorCode = (typeof ERROR_CODES)[number];

/**
 * Expected failures. Mutations that declare them return them as typed results; elsewhere they reach
 * the client as GraphQL errors with `extensions.code`, since yoga's masking lets GraphQLErrors through.
 */
export class DoorstepError extends GraphQLError {
  constructor(readonly code: TErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
  }
}

export class ValidationError extends DoorstepError {
  constructor(readonly issues: TValidationIssue[]) {
    const first = issues[0];
    super('VALIDATION', first ? `Invalid input at ${first.path || '(root)'}: ${first.message}` : 'Invalid input', { issues });
  }
}

export class ConflictError extends DoorstepError {
  constructor(message: string, readonly currentRevision: number | null = null) {
    super('CONFLICT', message, currentRevision === null ? {} : { currentRevision });
  }
}

export class NotFoundError extends DoorstepError {
  constructor(readonly entity: string, key: string) {
    super('NOT_FOUND', `No ${entity} "${key}" in this workspace`);
  }
}

export class ForbiddenError extends DoorstepError {
  /** `issues` name what was refused when it is part of the input, e.g. one event of a batch. */
  constructor(message: string, issues?: TValidationIssue[]) {
    super('FORBIDDEN', message, issues ? { issues } : {});
  }
}

export class UnauthenticatedError extends DoorstepError {
  constructor(message = 'Send an API key as "Authorization: Bearer <key>"') {
    super('UNAUTHENTICATED', message);
  }
}

/**
 * Too many requests: HTTP 429 with Retry-After when it ends a request (it is never a typed result,
 * so that clients and proxies see the status), `retryAfterSeconds` for the caller's message.
 */
export class RateLimitedError extends DoorstepError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', message, { retryAfterSeconds, http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } } });
  }
}

/** "in 3 seconds", "in 15 minutes": the wait as people say it. */
export function waitInWords(seconds: number): string {
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minutes`;
}

/**
 * Refusals of a request as a whole, before any field runs, so never typed results: `BAD_REQUEST`
 * when it cannot be read (a parameter that is not JSON), `LIMIT_EXCEEDED` when it is over one of the
 * document or input limits (depth, cost, aliases, tokens, directives, nesting).
 */
export const REQUEST_ERROR_CODES = ['BAD_REQUEST', 'LIMIT_EXCEEDED'] as const;
export type TRequestErrorCode = (typeof REQUEST_ERROR_CODES)[number];

/** A request-level refusal: a GraphQL error with a stable code, answered with HTTP 400. */
export class RequestError extends GraphQLError {
  constructor(readonly code: TRequestErrorCode, message: string) {
    // `http` tells yoga the status; it is not sent to the caller.
    super(message, { extensions: { code, http: { status: 400 } } });
  }
}

/** Fails with a ValidationError naming one field, for checks a zod schema cannot make (uniqueness, references). */
export function invalid(path: string, message: string): never {
  throw new ValidationError([{ path, message }]);
}
