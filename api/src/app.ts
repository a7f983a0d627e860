import type { IncomingMessage } from 'node:http';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule, type GraphQLError, type ValidationContext } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { TContext } from './context.ts';
import type { TDatabase } from './db/database.ts';
import { assertOriginAllowed } from './auth/origins.ts';
import { RequestError } from './errors.ts';
import { DocumentCache, useDocumentCache } from './document-cache-plugin.ts';
import { maskedErrors, yogaLogger } from './error-masking.ts';
import { useETag } from './etag-plugin.ts';
import { useEventStream } from './events-plugin.ts';
import { useInputLimits } from './input-limits-plugin.ts';
import { useOfrep } from './ofrep-plugin.ts';
import { usePublicKeyLimits } from './public-key-limits-plugin.ts';
import { useTrustedDocuments } from './trusted-documents-plugin.ts';
import { useTimeBudget } from './time-budget-plugin.ts';
import { schema } from './schema/index.ts';
import { addressBucket, clientAddress as peerAddress } from './limits/client-address.ts';
import type { TRateLimits } from './limits/request-limits.ts';
import type { TSignInRules } from './limits/sign-in-limiter.ts';
import { RuntimePath } from './runtime/runtime-path.ts';
import type { TEventCommitterOptions } from './runtime/event-committer.ts';
import type { TEventStreamLimits } from './runtime/event-streams.ts';
import { startServices, stopServices, type TServices } from './services.ts';

export type TAppOptions = {
  db: TDatabase;
  production?: boolean;
  snapshotMaxAgeMs?: number;
  /** Caps on open `GET /events` streams; `EVENT_STREAM_LIMITS` unless given (tests lower them). */
  eventStreamLimits?: TEventStreamLimits;
  /** How long keys and profiles stay cached (tests shorten it); the defaults otherwise. */
  runtimeCacheTtlMs?: number;
  /** Documents the runtime's fast path answers; the client's unless given (tests add others). */
  trustedDocuments?: readonly string[];
  /** Group commit of `track` (tests widen the window to put requests in one group). */
  eventCommitter?: TEventCommitterOptions;
  /** Request rate limits; `DEFAULT_RATE_LIMITS` unless given. */
  rateLimits?: TRateLimits;
  /** Sign-in slow-down; `DEFAULT_SIGN_IN_RULES` unless given. */
  signInRules?: TSignInRules;
  /** How long a query may run; `QUERY_TIME_BUDGET_MS` unless given (tests shorten it). */
  queryTimeBudgetMs?: number;
};

/** What yoga's caller passes along: Node's request when listening, or an address in tests. */
export type TServerContext = { req?: IncomingMessage; clientAddress?: string };

export type TApp = {
  yoga: YogaServerInstance<TServerContext, TContext>;
  services: TServices;
  /** The fast path for the runtime's queries; server.ts offers it every POST before yoga. */
  runtime: RuntimePath;
  /** Yoga's parsed documents (for tests and operators: what it holds). */
  documentCache: DocumentCache;
  close(): Promise<void>;
};

/** Builds the GraphQL server on an opened, migrated database. Listening is `server.ts`'s job. */
export async function createApp(options: TAppOptions): Promise<TApp> {
  const services = await startServices(options.db, {
    snapshotMaxAgeMs: options.snapshotMaxAgeMs ?? 30_000, eventStreamLimits: options.eventStreamLimits, eventCommitter: options.eventCommitter,
    cacheTtlMs: options.runtimeCacheTtlMs, rateLimits: options.rateLimits, signInRules: options.signInRules,
  });
  const runtime = new RuntimePath(schema, services, options.trustedDocuments);
  const documentCache = new DocumentCache();
  const yoga = createYoga<TServerContext, TContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: !options.production,
    landingPage: false,
    maskedErrors,
    logging: yogaLogger,
    // server.ts enforces the body limit; yoga's own check cost 40% of the runtime path's throughput.
    maxRequestBodySize: false,
    // Yoga's cache is bounded only in entries, of any size; useDocumentCache bounds what it holds.
    parserAndValidationCache: false,
    // Callers authenticate with bearer keys, never cookies, so no credentials are allowed and any
    // origin may ask; a public key's own allow list is enforced once the key is known (below).
    // ETag is exposed so that browser apps can send If-None-Match.
    cors: (request) => ({
      origin: request.headers.get('origin') ?? '*',
      credentials: false,
      methods: ['GET', 'POST'],
      // EventSource sends Last-Event-ID when it reconnects.
      allowedHeaders: ['authorization', 'content-type', 'if-none-match', 'last-event-id'],
      exposedHeaders: ['etag'],
      maxAge: 600,
    }),
    plugins: [
      ...documentLimits(options.production ?? false), useInputLimits(), useDocumentCache(documentCache),
      useOfrep(services), useEventStream(services), usePublicKeyLimits(), useTrustedDocuments(), useETag(), useTimeBudget(options.queryTimeBudgetMs),
      acceptableOnce(), ...(options.production ? [disableIntrospection()] : []),
    ],
    context: async ({ request, req, clientAddress: given }) => {
      const principal = await services.keys.resolve(request.headers.get('authorization'));
      if (principal?.kind === 'public') assertOriginAllowed(principal, request.headers.get('origin'));
      const clientAddress = req ? addressBucket(peerAddress(req, services.limits.proxies)) : given ?? 'local';
      return { prisma: options.db.prisma, services, principal, clientAddress };
    },
  });
  return { yoga, services, runtime, documentCache, close: () => stopServices(services) };
}

/**
 * Every document is bounded before it runs, whoever sends it: the object graph has cycles (a flow's
 * segment lists its flows), so one small query could otherwise ask for an exponential amount of
 * work. Limits leave the studio's and the SDK's documents far inside them; field suggestions, which
 * map the schema for a caller, are off in production.
 */
export const DOCUMENT_LIMITS = { depth: 10, cost: 5000, aliases: 15, tokens: 5000, directives: 20 } as const;

function documentLimits(production: boolean): Plugin[] {
  const refusal = { propagateOnRejection: false, onReject: [refuseOverLimit] };
  return new EnvelopArmor({
    maxDepth: { n: DOCUMENT_LIMITS.depth, ...refusal },
    costLimit: { maxCost: DOCUMENT_LIMITS.cost, ...refusal },
    maxAliases: { n: DOCUMENT_LIMITS.aliases, ...refusal },
    maxTokens: { n: DOCUMENT_LIMITS.tokens, ...refusal },
    maxDirectives: { n: DOCUMENT_LIMITS.directives, ...refusal },
    blockFieldSuggestion: { enabled: production },
  }).protect().plugins as Plugin[];
}

/**
 * Armor's refusals as LIMIT_EXCEEDED with a 400, without the "Syntax Error:" Armor puts before
 * them: the document is well formed, only too big. Validation rules report (the caller learns every
 * limit it broke); the token count runs inside the parser, which only a throw stops.
 */
function refuseOverLimit(context: ValidationContext | null, error: GraphQLError): void {
  const refusal = new RequestError('LIMIT_EXCEEDED', error.message.replace(/^Syntax Error: /, ''));
  if (!context) throw refusal;
  context.reportError(refusal);
}

/**
 * Yoga's 406 names the media types it can answer in an Accept header with one copy of its list for
 * every type the request asked for: an Accept of 5,000 unknown types (10 KB) was answered with
 * 750 KB of headers, more than clients read. Each type is named once.
 */
function acceptableOnce(): Plugin {
  return {
    onResponse({ response }) {
      const accept = response.status === 406 ? response.headers.get('accept') : null;
      if (accept) response.headers.set('accept', [...new Set(accept.split(/,\s*/))].join(', '));
    },
  };
}

/** Introspection off in production: the schema is documented in the repository, not probed live. */
function disableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
