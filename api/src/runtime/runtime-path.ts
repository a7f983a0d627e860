import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ONBOARDING_DOCUMENT, TRACK_DOCUMENT } from '@doorstep/client/documents';
import { MAIN_PLACEMENT, ZLocale, ZPlacementKey, ZPlacementKeys, ZRuntimeUser, ZTrackBatch } from '@doorstep/schema';
import {
  getArgumentValues, getVariableValues, Kind, parse, validate,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLField, type GraphQLSchema, type OperationDefinitionNode,
} from 'graphql';
import { mayActAs } from '../auth/identity.ts';
import { MAX_NESTING, nestsDeeper } from '../input-limits-plugin.ts';
import type { TPublicPrincipal } from '../auth/principal.ts';
import { ValidationError } from '../errors.ts';
import { log } from '../log.ts';
import { CLIENT_DOCUMENTS } from '../trusted-documents-plugin.ts';
import type { TServices } from '../services.ts';
import type { TProfileState } from './profile-store.ts';
import type { TEnvironmentSnapshot } from './snapshot-store.ts';
import { compileOutput, NotCompilable, type TAnswerWriter, type TSerialize } from './selection-serializer.ts';
import { serveOnboarding, serveOnboardings } from './serve-onboarding.ts';

const RUNTIME_FIELDS = { query: new Set(['onboarding', 'onboardings']), mutation: new Set(['track']) } as const;
// Built once: zod builds a schema's checks when it is created, which per request cost more than the parse.
const ZOptionalLocale = ZLocale.nullish();
const ZOptionalPlacement = ZPlacementKey.nullish();
const ZOptionalPlacements = ZPlacementKeys.nullish();
/** The documents `@doorstep/client` sends for the runtime's queries. */
export const TRUSTED_DOCUMENTS: readonly string[] = [ONBOARDING_DOCUMENT, TRACK_DOCUMENT];

type TCompiledDocument = {
  operation: OperationDefinitionNode;
  field: GraphQLField<unknown, unknown>;
  node: FieldNode;
  /** `{"data":{"<response key>":` */
  prefix: string;
  serialize: TSerialize;
};

/** What an answer depends on besides the request's bytes. */
type TMemo = { environmentId: string; userId: string; userHash: string | null | undefined; snapshot: TEnvironmentSnapshot; state: TProfileState };
type TRememberedAnswer = TMemo & { body: string; etag: string; document: string };
/** About 25 MB at most; only users seen again with an unchanged state are kept. */
const MAX_REMEMBERED = 10_000;
const MAX_REMEMBERED_REQUEST = 4_096;

/** What a request asks of the runtime, parsed from its JSON body. */
type TRuntimeRequest = { query: string; variables: Record<string, unknown>; operationName: string | null };

/**
 * The runtime's fast path. The runtime's own documents (the client's `onboarding` query and `track`
 * mutation, `@doorstep/client/documents`) are trusted: compiled once at start into serializers, they
 * are answered from the snapshot, the profile and the group committer without the GraphQL executor,
 * byte for byte as yoga answers them (tests compare both). Every other document goes to yoga, and so
 * does anything unusual about a request (an error to report, another kind of key, an origin the key
 * refuses, an argument yoga would refuse), which yoga then answers or reports. A fixed list keeps
 * what this path holds in memory bounded whatever documents callers send.
 */
export class RuntimePath {
  /** Requests this path answered (the rest went to yoga): for tests and operators. */
  answered = 0;
  /** Of those, answered from a remembered answer. */
  fromMemory = 0;
  private readonly compiled = new Map<string, TCompiledDocument>();
  /** Answers by request (key and body), least recently used first. */
  private readonly remembered = new Map<string, TRememberedAnswer>();
  private lastFailureLoggedAt = 0;

  constructor(private readonly schema: GraphQLSchema, private readonly services: TServices, trusted: readonly string[] = TRUSTED_DOCUMENTS) {
    for (const source of trusted) {
      const document = parse(source, { noLocation: true });
      const errors = validate(schema, document);
      if (errors.length > 0) throw new Error(`A trusted runtime document is not valid: ${errors[0].message}`);
      const compiled = compileDocument(schema, document);
      if (!compiled) throw new Error('A trusted runtime document must be a query of onboarding or onboardings the fast path compiles');
      this.compiled.set(source, compiled);
    }
  }

  /** Answers the request and returns true, or returns false without writing anything. */
  async answer(req: IncomingMessage, res: ServerResponse, text: string): Promise<boolean> {
    const contentType = negotiatedContentType(req.headers.accept);
    if (!contentType) return false;
    const memoKey = `${req.headers.authorization ?? ''}\u0000${text}`;
    const remembered = this.remembered.get(memoKey);
    if (remembered && await this.stillHolds(remembered, req)) {
      this.remembered.delete(memoKey);
      this.remembered.set(memoKey, remembered);
      this.fromMemory++;
      this.respond(req, res, contentType, remembered.body, remembered.etag);
      return true;
    }
    let body: unknown;
    try { body = JSON.parse(text); } catch { return false; }
    const request = runtimeRequest(body);
    // Yoga's input limits refuse these with their own error.
    if (!request || nestsDeeper(request.variables, MAX_NESTING)) return false;
    const document = this.documentFor(request.query);
    if (!document || (request.operationName !== null && request.operationName !== document.operation.name?.value)) return false;
    const principal = await this.services.keys.resolve(req.headers.authorization ?? null);
    if (principal?.kind !== 'public' || !originAllowed(principal, req.headers.origin)) return false;
    if (principal.trustedDocumentsOnly && !CLIENT_DOCUMENTS.has(request.query)) return false;
    const coerced = getVariableValues(this.schema, document.operation.variableDefinitions ?? [], request.variables, { maxErrors: 1 });
    if (coerced.errors) return false;
    const args = getArgumentValues(document.field, document.node, coerced.coerced);
    const served = await this.serve(principal, document.field.name, args);
    if (served === undefined) return false;

    if (document.operation.operation === 'mutation') {
      const answer = `${document.prefix}${serialized(document, served.value)}}}`;
      const headers: Record<string, string> = { 'content-type': contentType, 'content-length': String(Buffer.byteLength(answer)) };
      if (req.headers.origin) Object.assign(headers, corsHeaders(req.headers.origin));
      this.answered++;
      res.writeHead(200, headers).end(answer);
      return true;
    }
    const out: TAnswerWriter = { body: document.prefix, recipe: document.prefix };
    if (served.value === null) {
      out.body += 'null';
      out.recipe += 'null';
    } else document.serialize(served.value, out);
    out.body += '}}';
    out.recipe += '}}';
    const etag = `W/"${createHash('sha1').update(out.recipe).digest('base64url')}"`;
    if (served.memo) this.remember(memoKey, { ...served.memo, body: out.body, etag, document: request.query });
    this.respond(req, res, contentType, out.body, etag);
    return true;
  }

  private respond(req: IncomingMessage, res: ServerResponse, contentType: string, body: string, etag: string): void {
    const headers: Record<string, string> = { 'cache-control': 'private, no-cache', etag, vary: 'Authorization' };
    const origin = req.headers.origin;
    if (origin) Object.assign(headers, corsHeaders(origin));
    this.answered++;
    if (matches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    headers['content-type'] = contentType;
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(200, headers).end(body);
  }

  /**
   * An answer stays right while nothing it depends on changed: the same request bytes from the same
   * key, the same snapshot, the same cached profile state (a change to either replaces the object),
   * and a placement without frequency caps (caps depend on the clock too).
   */
  private async stillHolds(remembered: TRememberedAnswer, req: IncomingMessage): Promise<boolean> {
    const principal = await this.services.keys.resolve(req.headers.authorization ?? null);
    if (principal?.kind !== 'public' || principal.environmentId !== remembered.environmentId || !originAllowed(principal, req.headers.origin)) return false;
    if (principal.trustedDocumentsOnly && !CLIENT_DOCUMENTS.has(remembered.document)) return false;
    // Identity verification may have been turned on or its secret rotated since.
    if (!mayActAs(principal.identitySecret, remembered.userId, remembered.userHash)) return false;
    const snapshot = await this.services.snapshots.get(remembered.environmentId);
    return snapshot === remembered.snapshot && this.services.profiles.peek(remembered.environmentId, remembered.userId) === remembered.state;
  }

  private remember(memoKey: string, answer: TRememberedAnswer): void {
    if (memoKey.length > MAX_REMEMBERED_REQUEST) return;
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value as string);
    this.remembered.set(memoKey, answer);
  }

  /** The resolved answer, or undefined when yoga must answer (arguments it would refuse, a failure). */
  private async serve(principal: TPublicPrincipal, fieldName: string, args: Record<string, unknown>): Promise<{ value: unknown; memo?: TMemo } | undefined> {
    if (fieldName === 'track') {
      const tracked = await this.track(principal, args);
      return tracked === undefined ? undefined : { value: tracked };
    }
    const user = ZRuntimeUser.safeParse(args.user);
    const locale = ZOptionalLocale.safeParse(args.locale);
    if (!user.success || !locale.success || !mayActAs(principal.identitySecret, user.data.id, user.data.hash)) return undefined;
    try {
      if (fieldName === 'onboarding') {
        const placement = ZOptionalPlacement.safeParse(args.placement);
        if (!placement.success) return undefined;
        const chosen = placement.data ?? MAIN_PLACEMENT;
        const before = this.services.profiles.peek(principal.environmentId, user.data.id);
        const served = await serveOnboarding(this.services, principal.environmentId, user.data, locale.data ?? null, chosen);
        // Remembered only when the user's cached state was already there and serving left it as it
        // was: a first visit (most requests of new users) or a first serve is not worth keeping.
        const after = this.services.profiles.peek(principal.environmentId, user.data.id);
        const state = before !== undefined && after === before ? after : undefined;
        const caps = served.snapshot.placements?.get(chosen);
        const timeless = !caps || (caps.maxShows === null && caps.cooloffHours === null);
        return {
          value: served.onboarding,
          memo: state && timeless ? { environmentId: principal.environmentId, userId: user.data.id, userHash: user.data.hash, snapshot: served.snapshot, state } : undefined,
        };
      }
      const placements = ZOptionalPlacements.safeParse(args.placements);
      if (!placements.success) return undefined;
      return { value: await serveOnboardings(this.services, principal.environmentId, user.data, locale.data ?? null, placements.data ?? null) };
    } catch (error) {
      // Yoga runs it again and answers with its masked error.
      this.failed(error);
      return undefined;
    }
  }

  /** `track` as its resolver does it (schema/events.ts): validated, verified, then group-committed. */
  private async track(principal: TPublicPrincipal, args: Record<string, unknown>): Promise<unknown> {
    const events = ZTrackBatch.safeParse(args.events);
    if (!events.success || events.data.some((e) => !mayActAs(principal.identitySecret, e.userId, e.userHash))) return undefined;
    try {
      const snapshot = await this.services.snapshots.get(principal.environmentId);
      const result = await this.services.events.submit(snapshot, events.data);
      this.services.profiles.changed(principal.environmentId, result.affectedUsers);
      return { accepted: result.accepted, duplicates: result.duplicates };
    } catch (error) {
      // An event the snapshot refuses is reported by yoga's run; ids make a repeated commit harmless.
      if (!(error instanceof ValidationError)) this.failed(error);
      return undefined;
    }
  }

  private documentFor(source: string): TCompiledDocument | null {
    return this.compiled.get(source) ?? null;
  }

  /** A failure here repeats in yoga, which reports it; logged at most once a minute so a regression shows. */
  private failed(error: unknown): void {
    if (Date.now() - this.lastFailureLoggedAt < 60_000) return;
    this.lastFailureLoggedAt = Date.now();
    log.warn('The runtime fast path failed a request; yoga answered it', {}, error);
  }
}

function isRuntimeDocument(document: DocumentNode): boolean {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1 || operations[0].operation === 'subscription') return false;
  const [root] = operations[0].selectionSet.selections;
  return operations[0].selectionSet.selections.length === 1 && root.kind === Kind.FIELD && RUNTIME_FIELDS[operations[0].operation].has(root.name.value);
}

function compileDocument(schema: GraphQLSchema, document: DocumentNode): TCompiledDocument | null {
  if (!isRuntimeDocument(document)) return null;
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const node = operation.selectionSet.selections[0] as FieldNode;
  if (operation.directives?.length || node.directives?.length || !node.selectionSet) return null;
  const root = operation.operation === 'mutation' ? schema.getMutationType()! : schema.getQueryType()!;
  const field = root.getFields()[node.name.value];
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d as FragmentDefinitionNode] as const] : [])));
  try {
    const prefix = `{"data":{${JSON.stringify(node.alias?.value ?? node.name.value)}:`;
    return { operation, field, node, prefix, serialize: compileOutput(field.type, node.selectionSet, fragments) };
  } catch (error) {
    if (error instanceof NotCompilable) return null;
    throw error;
  }
}

function serialized(document: TCompiledDocument, value: unknown): string {
  const out: TAnswerWriter = { body: '', recipe: '' };
  if (value === null) return 'null';
  document.serialize(value, out);
  return out.body;
}

function runtimeRequest(body: unknown): TRuntimeRequest | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { query, variables, operationName, extensions, ...rest } = body as Record<string, unknown>;
  if (typeof query !== 'string' || extensions !== undefined || Object.keys(rest).length > 0) return null;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  return { query, variables: (variables ?? {}) as Record<string, unknown>, operationName: operationName ?? null };
}

/** Yoga's choice of media type: the first acceptable of the two it speaks, JSON when anything goes. */
function negotiatedContentType(accept: string | undefined): string | null {
  if (!accept) return 'application/json; charset=utf-8';
  for (const range of accept.split(',')) {
    const type = range.split(';')[0].trim().toLowerCase();
    if (type === 'application/graphql-response+json') return 'application/graphql-response+json; charset=utf-8';
    if (type === 'application/json' || type === '*/*') return 'application/json; charset=utf-8';
  }
  return null;
}

function originAllowed(principal: TPublicPrincipal, origin: string | undefined): boolean {
  return !origin || principal.allowedOrigins.length === 0 || principal.allowedOrigins.includes(origin.toLowerCase());
}

/** The CORS headers yoga sends with an answer (app.ts configures them). */
function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': 'authorization, content-type, if-none-match, last-event-id',
    'access-control-expose-headers': 'etag',
    'access-control-max-age': '600',
  };
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === etag);
}
