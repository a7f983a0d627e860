import { GraphQLError } from 'graphql';
import { maskError, type YogaLogger, type YogaMaskedErrorOpts } from 'graphql-yoga';
import { Prisma } from './generated/prisma/client.ts';
import { databaseErrorKind } from './db/database-errors.ts';
import { log } from './log.ts';

/** Errors already logged, or answered as expected: yoga reports each masked error more than once. */
const logged = new WeakSet<object>();

/**
 * Unexpected errors reach callers as "Unexpected error." with code INTERNAL_SERVER_ERROR and
 * nothing else, in every mode: yoga's development mode would add the original message and stack
 * (source paths, SQL) for anyone who asks, and it reads NODE_ENV itself. The operator finds them in
 * the log (`yogaLogger`). Expected failures are GraphQL errors and pass unchanged.
 */
export const maskedErrors: Partial<YogaMaskedErrorOpts> = {
  isDev: false,
  maskError: (error, message) => {
    const unavailable = unavailableDatabase(error);
    if (unavailable) return unavailable;
    const refusal = unstorableText(error);
    if (!refusal) return maskError(error, message, false);
    // Answered as the caller's mistake, so not logged as the server's.
    if (typeof error === 'object' && error !== null) logged.add(error);
    return refusal;
  },
};

/** Seconds a client should wait before retrying while the database is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_S = 5;
let unavailableLoggedAt = 0;

/**
 * A request that needed the database while it is unreachable (connection refused or lost, pool or
 * transaction timeout): 503 with Retry-After and code UNAVAILABLE, so clients back off and retry
 * (the SDK does) instead of treating it as the server's bug. Logged once every 10 s, not per request.
 */
function unavailableDatabase(error: unknown): GraphQLError | null {
  const cause = error instanceof GraphQLError ? error.originalError : error;
  if (!cause || databaseErrorKind(cause) !== 'transient') return null;
  if (typeof error === 'object' && error !== null) logged.add(error);
  if (Date.now() - unavailableLoggedAt > 10_000) {
    unavailableLoggedAt = Date.now();
    log.warn('The database is unavailable; answering 503', {}, cause);
  }
  const located = error instanceof GraphQLError ? error : null;
  return new GraphQLError('The service is briefly unavailable; retry shortly', {
    nodes: located?.nodes, source: located?.source, positions: located?.positions, path: located?.path,
    extensions: { code: 'UNAVAILABLE', http: { status: 503, headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_S) } } },
  });
}

/**
 * The last line for text that PostgreSQL cannot hold, in arguments no schema validates (a lookup
 * key): NUL in a text (22021) or jsonb (22P05) value. It is the caller's input, so it is answered
 * as invalid input rather than as an unexpected error. Validated input never gets here: the schemas
 * refuse such text with the field's path first.
 */
function unstorableText(error: unknown): GraphQLError | null {
  const cause = error instanceof GraphQLError ? error.originalError : error;
  if (!(cause instanceof Prisma.PrismaClientKnownRequestError)) return null;
  const code = (cause.meta?.driverAdapterError as { cause?: { originalCode?: string } } | undefined)?.cause?.originalCode;
  if (code !== '22021' && code !== '22P05') return null;
  const located = error instanceof GraphQLError ? error : null;
  return new GraphQLError('Text cannot contain the NUL character (U+0000)', {
    nodes: located?.nodes, source: located?.source, positions: located?.positions, path: located?.path,
    extensions: { code: 'VALIDATION' },
  });
}

/**
 * Yoga's own log, into the API's: a masked error once, with the field it came from and its stack.
 * Yoga's debug and info chatter is dropped.
 */
export const yogaLogger: YogaLogger = {
  debug: () => {},
  info: () => {},
  warn: (...args: unknown[]) => log.warn('GraphQL server warning', {}, args.length === 1 ? args[0] : args),
  error: (...args: unknown[]) => {
    const [error] = args;
    if (error !== null && typeof error === 'object') {
      if (logged.has(error)) return;
      logged.add(error);
    }
    const path = error instanceof GraphQLError ? error.path?.join('.') : undefined;
    const cause = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    log.error('Unexpected error', { path }, args.length === 1 ? cause : args);
  },
};
