import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAIN_PLACEMENT, ZLocale, ZPlacementKey, ZPlacementKeys, ZRuntimeUser } from '@doorstep/schema';
import {
  getArgumentValues, getVariableValues, Kind, parse,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLField, type GraphQLSchema, type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { mayActAs } from '../auth/identity.ts';
import { MAX_NESTING, nestsDeeper } from '../input-limits-plugin.ts';
import type { TPublicPrincipal } from '../auth/principal.ts';
import type { TServices } from '../services.ts';
import { compileOutput, NotCompilable, type TAnswerWriter, type TSerialize } from './selection-serializer.ts';
import { serveOnboarding, serveOnboardings } from './serve-onboarding.ts';

const RUNTIME_FIELDS = new Set(['onboarding', 'onboardings']);
// Built once: zod builds a schema's checks when it is created, which per request cost more than the parse.
const ZOptionalLocale = ZLocale.nullish();
const ZOptionalPlacement = ZPlacementKey.nullish();
const ZOptionalPlacements = ZPlacementKeys.nullish();
/** Far above any runtime document a client sends; longer ones always take yoga's path. */
const MAX_DOCUMENT_LENGTH = 16_384;
const MAX_DOCUMENTS = 500;

type TCompiledDocument = {
  operation: OperationDefinitionNode;
  field: GraphQLField<unknown, unknown>;
  node: FieldNode;
  /** `{"data":{"<response key>":` */
  prefix: string;
  serialize: TSerialize;
};

/** What a request asks of the runtime, parsed from its JSON body. */
type TRuntimeRequest = { query: string; variables: Record<string, unknown>; operationName: string | null };

/**
 * The runtime's fast path. A query whose only root field is `onboarding` or `onboardings` is
 * answered here once yoga has parsed and validated that exact document (with every document limit)
 * one time: its selection is compiled into a serializer, and the request is served from the
 * snapshot and the profile without the GraphQL executor. Its answers are byte for byte yoga's.
 * Anything else, and anything unusual about a request (an error to report, another kind of key,
 * an origin the key refuses), is left to yoga, which then gives the answer or the error.
 */
export class RuntimePath {
  /** Requests this path answered (the rest went to yoga): for tests and operators. */
  answered = 0;
  private readonly validated = new Set<string>();
  private readonly compiled = new Map<string, TCompiledDocument | null>();

  constructor(private readonly schema: GraphQLSchema, private readonly services: TServices) {}

  /** The yoga plugin that tells this path which documents passed yoga's parsing and validation. */
  plugin(): Plugin {
    const sources = new WeakMap<DocumentNode, string>();
    return {
      onParse: ({ params }) => ({ result }) => {
        const source = typeof params.source === 'string' ? params.source : params.source.body;
        if (result && !(result instanceof Error) && source.length <= MAX_DOCUMENT_LENGTH) sources.set(result as DocumentNode, source);
      },
      onValidate: ({ params }) => ({ valid }) => {
        const source = sources.get(params.documentAST);
        if (!valid || source === undefined || this.validated.has(source) || !isRuntimeDocument(params.documentAST)) return;
        if (this.validated.size >= MAX_DOCUMENTS) this.validated.delete(this.validated.values().next().value as string);
        this.validated.add(source);
      },
    };
  }

  /** Answers the request and returns true, or returns false without writing anything. */
  async answer(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<boolean> {
    const request = runtimeRequest(body);
    // Yoga's input limits refuse these with their own error.
    if (!request || nestsDeeper(request.variables, MAX_NESTING)) return false;
    const document = this.documentFor(request.query);
    if (!document || (request.operationName !== null && request.operationName !== document.operation.name?.value)) return false;
    const contentType = negotiatedContentType(req.headers.accept);
    if (!contentType) return false;
    const principal = await this.services.keys.resolve(req.headers.authorization ?? null);
    if (principal?.kind !== 'public' || !originAllowed(principal, req.headers.origin)) return false;
    const coerced = getVariableValues(this.schema, document.operation.variableDefinitions ?? [], request.variables, { maxErrors: 1 });
    if (coerced.errors) return false;
    const args = getArgumentValues(document.field, document.node, coerced.coerced);
    const served = await this.serve(principal, document.field.name, args);
    if (served === undefined) return false;

    const out: TAnswerWriter = { body: document.prefix, recipe: document.prefix };
    if (served === null) {
      out.body += 'null';
      out.recipe += 'null';
    } else document.serialize(served, out);
    out.body += '}}';
    out.recipe += '}}';
    const etag = `W/"${createHash('sha1').update(out.recipe).digest('base64url')}"`;
    const headers: Record<string, string> = { 'cache-control': 'private, no-cache', etag, vary: 'Authorization' };
    const origin = req.headers.origin;
    if (origin) Object.assign(headers, corsHeaders(origin));
    this.answered++;
    if (matches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers).end();
      return true;
    }
    headers['content-type'] = contentType;
    headers['content-length'] = String(Buffer.byteLength(out.body));
    res.writeHead(200, headers).end(out.body);
    return true;
  }

  /** The resolved answer, or undefined when yoga must answer (arguments it would refuse, a failure). */
  private async serve(principal: TPublicPrincipal, fieldName: string, args: Record<string, unknown>): Promise<unknown> {
    const user = ZRuntimeUser.safeParse(args.user);
    const locale = ZOptionalLocale.safeParse(args.locale);
    if (!user.success || !locale.success || !mayActAs(principal.identitySecret, user.data.id, user.data.hash)) return undefined;
    try {
      if (fieldName === 'onboarding') {
        const placement = ZOptionalPlacement.safeParse(args.placement);
        if (!placement.success) return undefined;
        const served = await serveOnboarding(this.services, principal.environmentId, user.data, locale.data ?? null, placement.data ?? MAIN_PLACEMENT);
        return served.onboarding;
      }
      const placements = ZOptionalPlacements.safeParse(args.placements);
      if (!placements.success) return undefined;
      return await serveOnboardings(this.services, principal.environmentId, user.data, locale.data ?? null, placements.data ?? null);
    } catch {
      // Yoga runs it again and answers with its masked error.
      return undefined;
    }
  }

  private documentFor(source: string): TCompiledDocument | null {
    const hit = this.compiled.get(source);
    if (hit !== undefined) return hit;
    if (!this.validated.has(source)) return null;
    const document = compileDocument(this.schema, source);
    if (this.compiled.size >= MAX_DOCUMENTS) this.compiled.delete(this.compiled.keys().next().value as string);
    this.compiled.set(source, document);
    return document;
  }
}

function isRuntimeDocument(document: DocumentNode): boolean {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1 || operations[0].operation !== 'query') return false;
  const [root] = operations[0].selectionSet.selections;
  return operations[0].selectionSet.selections.length === 1 && root.kind === Kind.FIELD && RUNTIME_FIELDS.has(root.name.value);
}

function compileDocument(schema: GraphQLSchema, source: string): TCompiledDocument | null {
  const document = parse(source, { noLocation: true });
  if (!isRuntimeDocument(document)) return null;
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const node = operation.selectionSet.selections[0] as FieldNode;
  if (operation.directives?.length || node.directives?.length || !node.selectionSet) return null;
  const field = schema.getQueryType()!.getFields()[node.name.value];
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d as FragmentDefinitionNode] as const] : [])));
  try {
    const prefix = `{"data":{${JSON.stringify(node.alias?.value ?? node.name.value)}:`;
    return { operation, field, node, prefix, serialize: compileOutput(field.type, node.selectionSet, fragments) };
  } catch (error) {
    if (error instanceof NotCompilable) return null;
    throw error;
  }
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
