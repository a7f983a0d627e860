import {
  getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isUnionType,
  type GraphQLField, type GraphQLInputType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../api/src/schema/index.ts';
import { useTestApi, useTestWorkspace, type TGraphQLResponse } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { createSecretKey } from '../support/keys.ts';

/**
 * Who may call each root field: the explicit allow list. The cases below are derived from the
 * schema itself, so a root field that is missing here, or that declares no scope (and is then
 * refused to everyone by the root types), fails this file.
 */
const AUDIENCE = {
  query: {
    apiKeys: 'admin', auditLog: 'viewer', environments: 'viewer', experiment: 'viewer', experiments: 'viewer', flow: 'viewer',
    explainOnboarding: 'publicKey', exportWorkspace: 'admin', flowAnalytics: 'viewer', flows: 'viewer', invitation: 'anyone', me: 'anyone', members: 'viewer',
    onboarding: 'publicKey', onboardings: 'publicKey', placements: 'viewer',
    currentSession: 'anyone', passwordReset: 'anyone',
    segment: 'viewer', segmentMatches: 'viewer', segments: 'viewer', setupRequired: 'anyone', versionDiff: 'viewer', workspace: 'viewer',
  },
  mutation: {
    acceptInvitation: 'anyone', archiveFlow: 'editor', changeMemberRole: 'admin', createApiKey: 'admin', createEnvironment: 'admin',
    createExperiment: 'editor', createFlow: 'editor', createSegment: 'editor', deletePlacement: 'editor', deleteSegment: 'editor', importWorkspace: 'admin', inviteMember: 'admin',
    identify: 'publicKey', savePlacement: 'editor',
    disableIdentityVerification: 'admin', enableIdentityVerification: 'admin', setApiKeyOrigins: 'admin', setTrustedDocumentsOnly: 'admin',
    launchExperiment: 'publisher', publishFlow: 'publisher', removeMember: 'admin', restoreFlow: 'editor', revokeApiKey: 'admin',
    rollbackFlow: 'publisher', saveDraft: 'editor', setupFirstAdmin: 'anyone', shipWinner: 'publisher', signIn: 'anyone',
    signOut: 'anyone', stopExperiment: 'publisher', track: 'publicKey', updateExperimentWeights: 'publisher', updateFlow: 'editor',
    updateSegment: 'editor',
    changePassword: 'viewer', endMemberSessions: 'admin', issuePasswordReset: 'admin', resetPassword: 'anyone', rotateSession: 'anyone', signOutEverywhere: 'anyone',
  },
} as const;

type TAudience = 'anyone' | 'publicKey' | 'viewer' | 'editor' | 'publisher' | 'admin';
type TCaller = 'anonymous' | 'publicKey' | 'viewer' | 'editor' | 'publisher' | 'admin';
const CALLERS: TCaller[] = ['anonymous', 'publicKey', 'viewer', 'editor', 'publisher', 'admin'];
const ROLE_ORDER = ['viewer', 'editor', 'publisher', 'admin'];

function mayCall(audience: TAudience, caller: TCaller): boolean {
  if (audience === 'anyone') return true;
  if (audience === 'publicKey') return caller === 'publicKey';
  return ROLE_ORDER.includes(caller) && ROLE_ORDER.indexOf(caller) >= ROLE_ORDER.indexOf(audience);
}

/** The smallest well-typed literal for an input type: required fields only, dummy values. */
function literal(type: GraphQLInputType): string {
  if (isNonNullType(type)) return literal(type.ofType);
  if (isListType(type)) return `[${literal(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${fields.map((f) => `${f.name}: ${literal(f.type)}`).join(', ')} }`;
  }
  const scalars: Record<string, string> = { String: '"x"', ID: '"x"', Int: '1', Float: '0.5', Boolean: 'false', DateTime: '"2026-01-01T00:00:00Z"', JSON: '{}' };
  return scalars[type.name] ?? '"x"';
}

/** A document that calls one root field with dummy required arguments and selects just enough to see a refusal. */
function documentFor(operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined).map((a) => `${a.name}: ${literal(a.type)}`);
  const returned = getNamedType(field.type);
  const selection = isUnionType(returned) ? '{ __typename ... on Error { code } }' : isObjectType(returned) ? '{ __typename }' : '';
  return `${operation} { ${field.name}${args.length ? `(${args.join(', ')})` : ''} ${selection} }`;
}

/** FORBIDDEN or UNAUTHENTICATED when access control refused the call, whether as an error or a typed result. */
function refusal(field: string, res: TGraphQLResponse): string | null {
  const typed = res.data?.[field];
  if (typed && typeof typed === 'object' && ['ForbiddenError', 'UnauthenticatedError'].includes(typed.__typename)) return typed.code;
  const code = res.errors?.find((e) => ['FORBIDDEN', 'UNAUTHENTICATED'].includes(e.extensions?.code))?.extensions?.code;
  return code ?? null;
}

const rootFields = (['query', 'mutation'] as const).flatMap((operation) => {
  const type = operation === 'query' ? schema.getQueryType() : schema.getMutationType();
  return Object.values(type?.getFields() ?? {}).map((field) => ({ operation, field }));
});

describe('the access allow list', () => {
  it('should name every root field of the schema, and no field the schema lacks', () => {
    const inSchema = rootFields.map(({ operation, field }) => `${operation}.${field.name}`).sort();
    const listed = (['query', 'mutation'] as const).flatMap((operation) => Object.keys(AUDIENCE[operation]).map((name) => `${operation}.${name}`)).sort();
    expect(inSchema).toEqual(listed);
  });
});

describe.each(DATABASE_KINDS)('access boundaries derived from the schema on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  it.each(rootFields.map(({ operation, field }) => [`${operation}.${field.name}`, operation, field] as const))(
    'should let exactly its audience call %s',
    async (_name, operation, field) => {
      const audience: TAudience = (AUDIENCE[operation] as Record<string, TAudience>)[field.name];
      expect(audience, `${operation}.${field.name} is in the allow list`).toBeDefined();
      const keys: Record<TCaller, string | null> = {
        anonymous: null,
        publicKey: ws.publicKey,
        admin: ws.secretKey,
        viewer: await createSecretKey(api, ws.secretKey, 'viewer'),
        editor: await createSecretKey(api, ws.secretKey, 'editor'),
        publisher: await createSecretKey(api, ws.secretKey, 'publisher'),
      };
      const document = documentFor(operation, field);
      const outcomes = await Promise.all(CALLERS.map(async (caller) => {
        const res = await api.gql(keys[caller], document);
        // A document the schema refuses would say nothing about access: the generator must stay valid.
        expect(res.errors?.filter((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED') ?? [], document).toEqual([]);
        return [caller, refusal(field.name, res)] as const;
      }));
      const expected = CALLERS.map((caller) => [caller, mayCall(audience, caller) ? null : caller === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN'] as const);
      expect(outcomes).toEqual(expected);
    },
  );
});
