/**
 * A fuzzer for the built API in production mode (issue 10), on PGlite and on PostgreSQL: requests
 * from families of hostile input (mutated studio and runtime operations, malformed HTTP, malformed
 * documents, hostile regexes in segment conditions, anonymous sign-in and setup garbage), with rate
 * limits off so that 429s hide no other answer; then a short phase with the default limits, where
 * 429 with Retry-After must be the only refusal.
 *
 * Every response is read whole. A run fails (exit 1) on any 5xx, any body that leaks internals
 * (stack frames, source paths, Prisma or SQL text the request did not carry), any "Unexpected error"
 * in a 2xx or 4xx body, any error line in the API's log, any answer slower than 10 s, an RSS above
 * the bound, or a broken API after the run.
 *
 * `FUZZ_SEED` replays a run (printed at start), `FUZZ_REQUESTS` (default 10,000) is per database,
 * `FUZZ_CONCURRENCY` (default 4) the connections, `FUZZ_DATABASES` a subset of `pglite,postgres`,
 * `FUZZ_ONLY` the index of a single request to replay, `FUZZ_MAX_RSS_MB` (default 1024) the bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTIFY_DOCUMENT, ONBOARDING_DOCUMENT, TRACK_DOCUMENT } from '../sdk/src/documents.ts';
import { MAX_REQUEST_BODY_BYTES } from '../api/src/server.ts';
import { freePort, REPO_ROOT } from '../test/support/process.ts';
import { createPostgresDatabase } from '../test/support/databases.ts';
import { hasTaskset, runtimeBuildOf, waitUntilUp } from './support.ts';

const SEED = Number(process.env.FUZZ_SEED ?? randomBytes(4).readUInt32LE(0));
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 4);
const DATABASES = (process.env.FUZZ_DATABASES ?? 'pglite,postgres').split(',');
const ONLY = process.env.FUZZ_ONLY === undefined ? null : Number(process.env.FUZZ_ONLY);
const MAX_RSS_MB = Number(process.env.FUZZ_MAX_RSS_MB ?? 1024);
const ADMIN_URL = process.env.DOORSTEP_BENCH_POSTGRES_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';
const TIMEOUT_MS = 10_000;
/** Node's default --max-http-header-size: past it the server answers 431 and closes the connection. */
const MAX_HEADER_BYTES = 16_384;
const LIMITED_REQUESTS = 900;
const PUBLIC_KEY = `dpk_fuzz-public-${randomBytes(12).toString('hex')}`;
const SECRET_KEY = `dsk_fuzz-secret-${randomBytes(12).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// Randomness: one generator per request, derived from the seed and the index, so that any single
// request can be rebuilt from the two numbers printed with it.

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** Sizes spread over orders of magnitude, up to `max`. */
  size(max: number): number {
    return Math.floor(Math.exp(this.next() * Math.log(max + 1)));
  }
}

const requestSeed = (seed: number, index: number) => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;

// ---------------------------------------------------------------------------------------------
// Hostile values. `Raw` is JSON text inserted verbatim (numbers JSON.stringify cannot write).

class Raw {
  constructor(readonly text: string) {}
}

const NASTY_STRINGS = [
  '', ' ', 'a', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '\ufeffid', '\u202eevil', '\u200f\u200e', '🎉', '👩‍👩‍👧‍👦', 'e\u0301', '\u0085\u2028\u2029',
  'NaN', 'Infinity', '-Infinity', '-0', '1e309', '0x1F', 'null', 'undefined', 'true', '[]', '{}', '__proto__', 'constructor', 'prototype', 'toString',
  '2024-02-30T00:00:00Z', '0000-00-00T00:00:00Z', '+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00Z', '2024-01-01', 'not-a-date', '2024-13-01T25:61:61Z',
  '9999-12-31T23:59:59.999999999Z', '1970-01-01T00:00:00Z', "'; DROP TABLE flows; --", '%00', '%', '../../etc/passwd', '\\', '"', '`', '${x}', '{{x}}', '<script>alert(1)</script>',
  'javascript:alert(1)', 'guest_00000000-0000-0000-0000-000000000000', 'production', 'staging', 'self-serve', 'main', 'banner', 'x'.repeat(129), 'y'.repeat(1025),
];
const NASTY_NUMBERS = [
  0, -1, 1, 2147483647, 2147483648, -2147483648, -2147483649, 4294967296, Number.MAX_SAFE_INTEGER, 0.5, -0.5, 1e308, -1e308, 5e-324,
  new Raw('9007199254740993'), new Raw('1e400'), new Raw('-1e400'), new Raw('-0'), new Raw('1E2'), new Raw('123456789012345678901234567890'),
];

/** `big` allows strings of hundreds of KB; only one value of a request may be that large. */
function nastyString(rng: Rng, big = false): string {
  if (big && rng.chance(0.08)) return rng.pick(['a', '\u0000', '🎉', '\ud800', 'é', '\u202e']).repeat(rng.size(450_000));
  if (rng.chance(0.3)) return rng.pick(NASTY_STRINGS) + (rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : '');
  const length = rng.size(64);
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(rng.chance(0.7) ? 32 + rng.int(95) : rng.int(0x10000));
  return text;
}

function nastyValue(rng: Rng, depth = 0): unknown {
  const roll = rng.int(12);
  if (roll < 3) return nastyString(rng, depth === 0);
  if (roll < 5) return rng.pick(NASTY_NUMBERS);
  if (roll === 5) return rng.pick([true, false, null]);
  if (roll === 6) return deepValue(rng, rng.pick([8, 30, 63, 64, 65, 70, 200]));
  if (depth > 3) return null;
  // Wide collections hold small values, so that a request stays under a few MB.
  const wide = rng.chance(0.05);
  const item = () => (wide ? rng.pick(NASTY_NUMBERS) : nastyValue(rng, depth + 1));
  if (roll === 7 || roll === 8) return Array.from({ length: wide ? rng.size(20_000) : rng.int(5) }, item);
  const object: Record<string, unknown> = {};
  const count = wide ? rng.size(5_000) : rng.int(6);
  for (let i = 0; i < count; i++) put(object, rng.chance(0.5) ? nastyString(rng).slice(0, 200) : `k${i}`, item());
  return object;
}

/** An own property even for `__proto__`, which plain assignment would turn into the prototype. */
function put(holder: object, key: string, value: unknown): void {
  Object.defineProperty(holder, key, { value, enumerable: true, writable: true, configurable: true });
}

function deepValue(rng: Rng, depth: number): unknown {
  let value: unknown = rng.chance(0.5) ? 'bottom' : 1;
  for (let i = 0; i < depth; i++) value = rng.chance(0.5) ? [value] : { [rng.pick(['a', '$and', '$or', 'plan', '$not', '$elemMatch'])]: value };
  return value;
}

/** JSON text of a value with `Raw` parts; lone surrogates pass as JSON.stringify escapes them. */
function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  // By index: an own `constructor` (which the fuzz puts anywhere) breaks Array.prototype.map.
  if (Array.isArray(value)) return `[${Array.from({ length: value.length }, (_, i) => toJson(value[i])).join(',')}]`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** The same value as a GraphQL literal, for arguments written into documents. */
function toLiteral(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${Array.from({ length: value.length }, (_, i) => toLiteral(value[i])).join(' ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'x'}: ${toLiteral(v)}`).join(' ')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return '0';
  return JSON.stringify(value) ?? 'null';
}

// ---------------------------------------------------------------------------------------------
// Requests

type TRequest = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Sent without Content-Length (chunked). */
  chunked?: boolean;
  /** Event streams that open stay open: an answer with 200 is closed once its headers arrive. */
  stream?: boolean;
};
type TFamily = { name: string; weight: number; make: (rng: Rng) => TRequest };

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const json = { 'content-type': 'application/json' };

function graphqlPost(key: string | null, body: unknown, headers: Record<string, string> = {}): TRequest {
  return { method: 'POST', path: '/graphql', headers: { ...json, ...(key ? auth(key) : {}), ...headers }, body: typeof body === 'string' ? body : toJson(body) };
}

type TOperation = { query: string; variables: Record<string, unknown> };

const FLOW_KEYS = ['self-serve', 'sales-assisted', 'developer-quickstart', 'whats-new-sharing', 'nope'];
const validUser = (rng: Rng) => ({ id: `fuzz-user-${rng.int(500)}`, attributes: { plan: rng.pick(['free', 'pro', 'enterprise']), companySize: rng.int(5000), country: 'DE' } });

/** Valid studio and management operations, which the fuzzer then mutates. */
const MANAGEMENT: Array<(rng: Rng) => TOperation> = [
  (rng) => ({ query: 'query($k: String!) { flow(key: $k) { key name priority placement draft { revision warnings } versions { number } releases { version { number } } } }', variables: { k: rng.pick(FLOW_KEYS) } }),
  () => ({ query: 'query($a: Boolean) { flows(includeArchived: $a) { key audienceCondition segment { key } } }', variables: { a: true } }),
  () => ({ query: '{ segments { key condition flows { key } } placements { key maxShows } environments { key } workspace { name } }', variables: {} }),
  (rng) => ({ query: 'query($c: JSON, $s: String, $u: SampleUserInput!) { segmentMatches(condition: $c, segmentKey: $s, user: $u) }', variables: { c: { plan: 'pro' }, s: null, u: validUser(rng) } }),
  () => ({ query: 'query($f: Int, $l: Int, $a: String, $b: String, $ac: String, $t: String) { auditLog(first: $f, last: $l, after: $a, before: $b, action: $ac, targetType: $t) { edges { cursor node { action } } pageInfo { hasNextPage endCursor } } }', variables: { f: 10, l: null, a: null, b: null, ac: 'flow.', t: null } }),
  (rng) => ({
    query: 'query($e: String!, $f: String!, $from: DateTime!, $to: DateTime!, $m: [MilestoneInput!], $v: Int) { flowAnalytics(environmentKey: $e, flowKey: $f, from: $from, to: $to, milestones: $m, version: $v) { starts completions funnel { stepId viewed } milestones { name rate } } }',
    variables: { e: 'production', f: rng.pick(FLOW_KEYS), from: '2024-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z', m: [{ name: 'aha', event: 'report_viewed', withinHours: 24 }], v: null },
  }),
  (rng) => ({ query: 'query($f: String!, $a: Int!, $b: Int) { versionDiff(flowKey: $f, from: $a, to: $b) { kind path before after } }', variables: { f: rng.pick(FLOW_KEYS), a: 1, b: null } }),
  () => ({ query: 'query($k: String!, $f: String) { experiment(key: $k) { key status results { srmPValue } } experiments(flowKey: $f) { key } }', variables: { k: 'nope', f: 'self-serve' } }),
  (rng) => ({ query: 'mutation($i: SegmentInput!) { createSegment(input: $i) { __typename ... on ValidationError { issues { path message } } } }', variables: { i: { key: `fuzz-${rng.int(1e9)}`, name: 'Fuzz', condition: { plan: { $in: ['pro', 'enterprise'] } } } } }),
  (rng) => ({ query: 'mutation($k: String!, $i: UpdateSegmentInput!) { updateSegment(key: $k, input: $i) { __typename } }', variables: { k: `fuzz-seg-${rng.int(3)}`, i: { name: 'Renamed', condition: null } } }),
  (rng) => ({ query: 'mutation($i: CreateFlowInput!) { createFlow(input: $i) { __typename ... on Flow { key } } }', variables: { i: { key: `fuzz-flow-${rng.int(1e9)}`, name: 'Fuzz', priority: 5, placement: 'banner', audience: { condition: { country: 'DE' } } } } }),
  (rng) => ({ query: 'mutation($k: String!, $i: UpdateFlowInput!) { updateFlow(key: $k, input: $i) { __typename } }', variables: { k: `fuzz-target-${rng.int(3)}`, i: { name: 'Fuzz target', priority: 100 } } }),
  (rng) => ({ query: 'mutation($c: JSON!, $f: String!, $r: Int!) { saveDraft(flowKey: $f, revision: $r, content: $c) { __typename ... on ValidationError { issues { path } } } }', variables: { c: { welcome: { title: 'Hi' }, steps: [] }, f: rng.pick(FLOW_KEYS), r: 1 } }),
  () => ({ query: 'mutation($i: PlacementInput!) { savePlacement(input: $i) { __typename } }', variables: { i: { key: 'banner', name: 'Banner', maxShows: 3, windowHours: 24, cooloffHours: 1 } } }),
  (rng) => ({ query: 'mutation($i: CreateEnvironmentInput!) { createEnvironment(input: $i) { __typename } }', variables: { i: { key: `env-${rng.int(1e9)}`, name: 'Env' } } }),
  () => ({ query: 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { __typename } }', variables: { i: { name: 'fuzz', kind: 'public', environmentKey: 'staging', allowedOrigins: ['https://app.example.com'] } } }),
  () => ({ query: 'mutation($id: ID!, $o: [String!]!) { setApiKeyOrigins(id: $id, allowedOrigins: $o) { __typename } }', variables: { id: 'nope', o: ['https://a.example'] } }),
  (rng) => ({
    query: 'mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { __typename } }',
    variables: { i: { key: `exp-${rng.int(1e9)}`, name: 'Exp', flowKey: 'self-serve', environmentKey: 'staging', variants: [{ key: 'a', versionNumber: 1, weight: 0.5 }, { key: 'b', versionNumber: 1, weight: 0.5 }] } },
  }),
  (rng) => ({ query: 'mutation($e: String!, $f: String!, $r: Int, $p: InFlightPolicy) { publishFlow(environmentKey: $e, flowKey: $f, expectedRevision: $r, inFlight: $p) { __typename } }', variables: { e: 'staging', f: rng.pick(FLOW_KEYS), r: 999_999, p: 'keep' } }),
  (rng) => ({ query: 'mutation($e: String!, $f: String!, $v: Int!) { rollbackFlow(environmentKey: $e, flowKey: $f, version: $v) { __typename } }', variables: { e: 'staging', f: rng.pick(FLOW_KEYS), v: 999 } }),
  () => ({ query: 'mutation($b: JSON!, $d: Boolean!) { importWorkspace(bundle: $b, dryRun: $d) { __typename ... on ValidationError { issues { path } } } }', variables: { b: { format: 'doorstep-workspace', version: 1, segments: [] }, d: true } }),
  () => ({ query: 'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { __typename } }', variables: { i: { email: 'someone@example.com', role: 'viewer' } } }),
  () => ({ query: 'mutation($k: String!, $v: String!) { shipWinner(key: $k, variantKey: $v) { __typename } launchExperiment(key: $k) { __typename } }', variables: { k: 'nope', v: 'a' } }),
  () => ({ query: 'mutation($id: ID!, $r: Role!) { changeMemberRole(memberId: $id, role: $r) { __typename } removeMember(memberId: $id) { __typename } revokeApiKey(id: $id) { __typename } }', variables: { id: 'nope', r: 'viewer' } }),
  () => ({ query: 'mutation($e: String!, $on: Boolean!) { setTrustedDocumentsOnly(environmentKey: $e, enabled: $on) { __typename } enableIdentityVerification(environmentKey: $e) { __typename } }', variables: { e: 'no-such-env', on: true } }),
  () => ({ query: 'mutation($k: String!) { deleteSegment(key: $k) { __typename } deletePlacement(key: $k) { __typename } restoreFlow(key: $k) { __typename } }', variables: { k: 'no-such-thing' } }),
];

const RUNTIME: Array<(rng: Rng) => TOperation> = [
  (rng) => ({ query: ONBOARDING_DOCUMENT, variables: { user: validUser(rng), locale: rng.pick(['en', 'de', null]), placement: null } }),
  (rng) => ({ query: TRACK_DOCUMENT, variables: { events: [{ id: `ev-${rng.int(1e9)}`, userId: `fuzz-user-${rng.int(500)}`, name: 'report_viewed', properties: { n: 1 } }] } }),
  (rng) => ({ query: IDENTIFY_DOCUMENT, variables: { guestId: 'guest_0b3f2d1e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', userId: `fuzz-user-${rng.int(500)}`, userHash: null } }),
  (rng) => ({ query: 'query($u: OnboardingUserInput!, $p: [String!], $l: String) { onboardings(user: $u, placements: $p, locale: $l) { placement version flow { key } } }', variables: { u: validUser(rng), p: ['main', 'banner'], l: 'en' } }),
  (rng) => ({ query: 'query($u: OnboardingUserInput!, $p: String) { explainOnboarding(user: $u, placement: $p) { flowKey decisions { flowKey outcome detail } } }', variables: { u: validUser(rng), p: 'main' } }),
];

/** One mutation of an operation's variables (or of its document's shape). */
function mutate(rng: Rng, operation: TOperation, big = true): TOperation {
  const depth = big ? 0 : 1;
  const variables: Record<string, unknown> = structuredClone(operation.variables);
  const names = Object.keys(variables);
  const mutations = rng.int(3) + 1;
  for (let m = 0; m < mutations; m++) {
    const roll = rng.int(10);
    const name = names.length > 0 ? rng.pick(names) : 'x';
    if (roll < 4) variables[name] = nastyValue(rng, depth);
    else if (roll === 4) delete variables[name];
    else if (roll === 5) variables[`extra${rng.int(9)}`] = nastyValue(rng, depth);
    else mutateInside(rng, variables, name, depth);
  }
  return { query: operation.query, variables };
}

/** Replaces one leaf deep inside a variable's value, keeping the rest valid. */
function mutateInside(rng: Rng, holder: Record<string, unknown>, name: string, depth: number): void {
  const value = holder[name];
  if (value !== null && typeof value === 'object' && !(value instanceof Raw)) {
    const inner = value as Record<string, unknown>;
    const keys = Object.keys(inner);
    if (keys.length > 0 && rng.chance(0.8)) return mutateInside(rng, inner, rng.pick(keys), depth);
    put(inner, rng.pick(['__proto__', 'constructor', 'extra', '$where', 'attributes', 'id']), nastyValue(rng, depth));
    return;
  }
  holder[name] = nastyValue(rng, depth);
}

function hostileAttributes(rng: Rng): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  const count = rng.chance(0.1) ? rng.size(3_000) : rng.int(8);
  for (let i = 0; i < count; i++) put(attributes, rng.chance(0.4) ? nastyString(rng).slice(0, rng.pick([10, 200, 5000])) : rng.pick(['plan', 'email', 'country', 'companySize', `a${i}`]), nastyValue(rng, count > 8 ? 4 : 0));
  return attributes;
}

function managementRequest(rng: Rng): TRequest {
  const operation = mutate(rng, rng.pick(MANAGEMENT)(rng));
  const key = rng.chance(0.9) ? SECRET_KEY : rng.pick([PUBLIC_KEY, 'dsk_' + 'x'.repeat(30), '']);
  return graphqlPost(key, operation);
}

function runtimeRequest(rng: Rng): TRequest {
  const template = rng.pick(RUNTIME)(rng);
  const roll = rng.int(6);
  let body: unknown;
  if (roll === 0) {
    // Hostile attributes on a valid request, through the client's own document.
    const user = { id: rng.chance(0.8) ? `fuzz-user-${rng.int(500)}` : nastyString(rng), attributes: hostileAttributes(rng), hash: rng.chance(0.2) ? nastyString(rng) : undefined };
    body = { query: ONBOARDING_DOCUMENT, variables: { user, locale: rng.chance(0.3) ? nastyString(rng) : 'en' } };
  } else if (roll === 1) {
    // Aliases, within and past the limit.
    const count = rng.pick([2, 15, 16, 50, 500]);
    const fields = Array.from({ length: count }, (_, i) => `a${i}: onboarding(user: { id: "alias-${i}" }, placement: ${JSON.stringify(rng.pick(['main', 'banner', 'x'.repeat(200)]))}) { version placement }`);
    body = { query: `{ ${fields.join(' ')} }` };
  } else if (roll === 2) {
    // Batches of operations, with garbage among them.
    const count = rng.pick([1, 2, 10, 100, 1000]);
    body = Array.from({ length: count }, () => (rng.chance(0.8) ? mutate(rng, rng.pick(RUNTIME)(rng), false) : rng.pick([null, 1, 'x', [], {}, { query: 42 }, { query: null, variables: 'x' }])));
  } else if (roll === 3) {
    // Track batches past their size, with hostile events.
    const count = rng.pick([0, 1, 100, 101, 5_000]);
    // Thousands of events are plain ones: hostile values in each would make the body tens of MB.
    const events = Array.from({ length: count }, (_, i) => (count > 101 ? { id: `e-${i}`, userId: 'u', name: 'report_viewed' } : rng.chance(0.7)
      ? { id: `e-${rng.int(1e9)}-${i}`, userId: `fuzz-user-${rng.int(500)}`, name: rng.pick(['flow_started', 'step_completed', 'question_answered', 'report_viewed', nastyString(rng)]), flowKey: rng.pick(FLOW_KEYS), stepId: 'welcome', value: nastyValue(rng, 1), timestamp: rng.pick(['2024-01-01T00:00:00Z', nastyString(rng)]), properties: nastyValue(rng, 1) }
      : nastyValue(rng, 1)));
    body = { query: TRACK_DOCUMENT, variables: { events } };
  } else {
    body = mutate(rng, template);
  }
  const key = rng.chance(0.92) ? PUBLIC_KEY : rng.pick([SECRET_KEY, `dpk_${'z'.repeat(25)}`, 'dpk_short', nastyString(rng).slice(0, 100).replace(/[^\x20-\x7e]/g, '')]);
  const headers: Record<string, string> = {};
  if (rng.chance(0.1)) headers.origin = rng.pick(['https://evil.example', 'null', 'http://[::1]', 'x']);
  if (rng.chance(0.1)) headers['if-none-match'] = rng.pick(['*', 'W/"x"', '"' + 'a'.repeat(2000) + '"']);
  if (rng.chance(0.1)) headers.accept = rng.pick(['application/graphql-response+json', 'text/event-stream', 'multipart/mixed', 'image/png', '*/*;q=0', '']);
  return graphqlPost(key, body, headers);
}

const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/graphql', 'application/json; charset=utf-16', 'application/json, text/plain', 'application/jsonx', '', 'application/graphql+json'];
const METHODS = ['PUT', 'DELETE', 'PATCH', 'PROPFIND', 'BREW', 'HEAD', 'OPTIONS', 'GET', 'POST', 'SEARCH', 'PURGE'];
const PATHS = ['/graphql', '/graphql/', '/GRAPHQL', '//graphql', '/graphql?x', '/', '/healthz?x', '/readyz', '/events', '/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/onboarding', '/ofrep/v1/evaluate/flags/%zz', '/ofrep/v1/configuration', '/%', '/..%2f..%2fetc%2fpasswd', '/graphql%00', `/${'a'.repeat(8000)}`];

function malformedHttpRequest(rng: Rng): TRequest {
  const key = rng.pick([PUBLIC_KEY, SECRET_KEY, null]);
  const authHeaders = key ? auth(key) : {};
  switch (rng.int(11)) {
    case 0: {
      const good = toJson({ query: ONBOARDING_DOCUMENT, variables: { user: { id: 'u' } } });
      const broken = rng.pick([
        good.slice(0, rng.int(good.length)), `${good}}`, good.replace('"query"', 'query'), '', 'null', '0', '"x"', '[', '{"query":', '\u0000', '\ufeff' + good,
        `{"query": "{ __typename }", "variables": ${rng.pick(['"x"', '[]', '1', 'null', '{"a":'])}}`, `{"query": "{ __typename }", "extensions": ${rng.pick(['"x"', '[]', '{"persistedQuery":{"sha256Hash":1}}'])}}`,
        `{"query": "{ __typename }", "operationName": ${rng.pick(['1', '{}', '"nope"'])}}`, `{"query": ["{ __typename }"]}`, `{"__proto__": {"query": "{ __typename }"}}`,
      ]);
      return { method: 'POST', path: '/graphql', headers: { ...json, ...authHeaders }, body: broken };
    }
    case 1:
      return { method: 'POST', path: rng.pick(['/graphql', '/graphql?query={__typename}']), headers: { 'content-type': rng.pick(CONTENT_TYPES), ...authHeaders }, body: rng.pick(['query={__typename}', '{ __typename }', '--xyz\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{__typename}"}\r\n--xyz--', nastyString(rng)]) };
    case 2: {
      const params = new URLSearchParams();
      if (rng.chance(0.8)) params.set('query', rng.pick(['{ __typename }', 'mutation { signOut }', '{', nastyString(rng).slice(0, 2000), ONBOARDING_DOCUMENT, '{ flows { key } }']));
      if (rng.chance(0.6)) params.set('variables', rng.pick(['{', 'null', '[]', '"x"', '{"user":{"id":1}}', toJson(deepValue(rng, 70)), nastyString(rng).slice(0, 2000)]));
      if (rng.chance(0.4)) params.set('extensions', rng.pick(['{', '[]', '{"persistedQuery":{"version":1,"sha256Hash":"abc"}}', nastyString(rng).slice(0, 2000)]));
      if (rng.chance(0.2)) params.set('operationName', nastyString(rng).slice(0, 100));
      let search = params.toString();
      if (rng.chance(0.15)) search += rng.pick(['&query=%', '&variables=%E0%A4%A', '&query', '&&&', '&query[]=x']);
      return { method: 'GET', path: `/graphql?${search}`, headers: { ...authHeaders, accept: rng.pick(['application/json', 'application/graphql-response+json', 'text/html', '*/*']) } };
    }
    case 3: {
      const entries = Array.from({ length: rng.pick([0, 1, 3, 50]) }, () => rng.pick([null, 1, 'x', true, [], {}, { query: '{ __typename }' }, { query: 7 }, nastyValue(rng)]));
      return { method: 'POST', path: '/graphql', headers: { ...json, ...authHeaders }, body: toJson(entries) };
    }
    case 4: {
      const name = rng.pick(['x-fuzz', 'authorization', 'cookie', 'accept', 'content-type', 'origin', 'if-none-match', 'x-forwarded-for']);
      const value = rng.pick(['a', 'b,', '1.2.3.4, ']).repeat(rng.pick([100, 5_000, 20_000]));
      return { method: 'POST', path: '/graphql', headers: { ...json, ...authHeaders, [name]: value }, body: toJson({ query: '{ __typename }' }) };
    }
    case 5:
      return { method: 'GET', path: '/graphql?query={__typename}', headers: { host: rng.pick(['[', 'a b', '', '::1', 'localhost:99999', 'x'.repeat(3000), '%00', 'example.com@evil', '[::1', '127.0.0.1:abc']), ...authHeaders } };
    case 6: {
      const method = rng.pick(METHODS);
      const hasBody = method !== 'GET' && method !== 'HEAD' && rng.chance(0.7);
      return { method, path: rng.pick(PATHS), headers: { ...json, ...authHeaders }, body: hasBody ? toJson({ query: '{ __typename }' }) : undefined, stream: true };
    }
    case 7: {
      const context = rng.pick([
        null, 'x', [], 1, { targetingKey: nastyValue(rng) }, { targetingKey: 'u1', ...hostileAttributes(rng) }, { targetingKey: 'u1', locale: nastyValue(rng), userHash: nastyValue(rng) },
        deepValue(rng, 80), { targetingKey: '' }, { targetingKey: 'u1', __proto__: { x: 1 } },
      ]);
      const body = rng.pick([toJson({ context }), toJson(context), '{', '', 'null', toJson({ context, extra: nastyValue(rng) })]);
      const path = rng.pick(['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/onboarding', `/ofrep/v1/evaluate/flags/${encodeURIComponent(nastyString(rng).slice(0, 300).replace(/[\ud800-\udfff]/g, ''))}`, '/ofrep/v1/evaluate/flags/%E0%A4%A', '/ofrep/v1/evaluate/flags/']);
      return { method: rng.pick(['POST', 'POST', 'POST', 'GET', 'PUT']), path, headers: { 'content-type': rng.pick(['application/json', 'text/plain']), ...(rng.chance(0.85) ? auth(PUBLIC_KEY) : authHeaders) }, body };
    }
    case 8: {
      const params = new URLSearchParams();
      if (rng.chance(0.6)) params.set('key', rng.pick([PUBLIC_KEY, SECRET_KEY, 'dpk_nope', '', nastyString(rng).slice(0, 500)]));
      if (rng.chance(0.5)) params.set('environment', rng.pick(['production', 'nope', '\u0000', nastyString(rng).slice(0, 500)]));
      const headers: Record<string, string> = rng.chance(0.5) ? { ...authHeaders } : {};
      if (rng.chance(0.3)) headers['last-event-id'] = rng.pick(['0', '-1', 'abc', '99999999999999999999', nastyString(rng).slice(0, 300).replace(/[^\x20-\x7e]/g, '')]);
      return { method: rng.pick(['GET', 'GET', 'POST']), path: `/events?${params.toString()}${rng.chance(0.1) ? '&key=%' : ''}`, headers, stream: true };
    }
    case 9:
      return { method: 'POST', path: '/graphql', headers: { ...json, ...authHeaders }, body: toJson({ query: '{ __typename }' }), chunked: true };
    default: {
      // Bodies at and past the size limit.
      const size = rng.pick([900_000, 999_000, 1_000_001, 1_500_000]);
      return { method: 'POST', path: '/graphql', headers: { ...json, ...authHeaders }, body: toJson({ query: '{ __typename }', variables: { pad: 'p'.repeat(size) } }) };
    }
  }
}

const CYCLE_FIELDS = 'flow(key: "self-serve") { segment { flows { segment { flows { segment { flows { segment { flows { segment { flows { segment { flows { key } } } } } } } } } } } } }';

function malformedDocumentRequest(rng: Rng): TRequest {
  const key = rng.pick([SECRET_KEY, SECRET_KEY, PUBLIC_KEY, null]);
  let query: string;
  switch (rng.int(12)) {
    case 0: {
      const tokens = ['{', '}', '(', ')', '[', ']', ':', '$', '...', '@', '!', '=', '|', '&', 'query', 'mutation', 'subscription', 'fragment', 'on', 'flow', 'flows', 'key', '"x"', '"""', '#', '\n', '1', '1.5e', '\u0000', '\ud800', 'π'];
      query = Array.from({ length: rng.size(3000) }, () => rng.pick(tokens)).join(rng.pick([' ', '']));
      break;
    }
    case 1: {
      const depth = rng.pick([10, 11, 40, 129, 5_000, 50_000]);
      query = `{ ${'flows { segment { '.repeat(Math.ceil(depth / 2))} key ${'} } '.repeat(Math.ceil(depth / 2))} }`;
      break;
    }
    case 2:
      query = `{ ${CYCLE_FIELDS} }`;
      break;
    case 3: {
      const count = rng.pick([16, 100, 2_000]);
      query = `{ ${Array.from({ length: count }, (_, i) => `a${i}: flows { key }`).join(' ')} }`;
      break;
    }
    case 4: {
      const count = rng.pick([21, 100, 3_000]);
      query = `{ flows ${Array.from({ length: count }, () => rng.pick(['@include(if: true)', '@skip(if: false)', '@deprecated', '@nope'])).join(' ')} { key } }`;
      break;
    }
    case 5: {
      const count = rng.pick([2, 50, 1_000]);
      const fragments = Array.from({ length: count }, (_, i) => `fragment F${i} on Flow { key ...F${(i + 1) % (rng.chance(0.5) ? count : count + 1)} }`);
      query = `{ flows { ...F0 } } ${fragments.join(' ')}`;
      break;
    }
    case 6:
      query = rng.pick([
        '{ __schema { types { name fields { name } } } }', '{ __type(name: "Flow") { fields { name } } }', 'query IntrospectionQuery { __schema { queryType { name } } }',
        '{ flows { __typename key } }', '{ flowz { key } }', '{ flow(key: "self-serve") { keyy } }', 'subscription { flows { key } }', '{ a: __schema { queryType { name } } }',
      ]);
      break;
    case 7:
      query = `query A { flows { key } } query B { segments { key } } ${rng.chance(0.5) ? 'mutation A { signOut }' : ''}`;
      break;
    case 8: {
      const value = deepValue(rng, rng.pick([30, 64, 65, 130, 10_000]));
      query = `query { segmentMatches(condition: ${toLiteralDeep(value)}, user: { id: "u" }) }`;
      break;
    }
    case 9:
      query = `{ flows { key } } ${'#'.repeat(rng.pick([1000, 500_000]))}\n${' '.repeat(rng.size(400_000))}`;
      break;
    case 10:
      query = `{ ${Array.from({ length: rng.pick([1000, 6000]) }, () => '__typename').join(' ')} }`;
      break;
    default:
      query = `{ flow(key: ${toLiteral(nastyValue(rng))}) { key } segment(key: ${toLiteral(nastyValue(rng))}) { key } invitation(token: ${toLiteral(nastyValue(rng))}) { email } }`;
  }
  const body: Record<string, unknown> = { query };
  if (rng.chance(0.2)) body.operationName = rng.pick(['A', 'B', 'C', nastyString(rng)]);
  return graphqlPost(key, body);
}

/** A literal of any depth without recursion: deep values here are chains of one key or one item. */
function toLiteralDeep(value: unknown): string {
  let open = '';
  let close = '';
  let node = value;
  while (node !== null && typeof node === 'object') {
    if (Array.isArray(node)) {
      open += '[';
      close = `]${close}`;
      node = node[0];
    } else {
      const [name, inner] = Object.entries(node)[0];
      open += `{${name.startsWith('$') ? 'x' : name}: `;
      close = `}${close}`;
      node = inner;
    }
  }
  return `${open}${toLiteral(node)}${close}`;
}

/** Patterns that backtrack catastrophically in a backtracking engine, patterns RE2 refuses, and huge ones. */
const HOSTILE_PATTERNS = [
  '(a+)+$', '(a|aa)*b', '(a|a)*$', '(x+x+)+y', '^(([a-z])+.)+[A-Z]([a-z])+$', '(.*a){20}', '((a*)*)*b', '(\\w+\\s?)*$', '^(a?){30}a{30}$',
  '(a)\\1', '(?=a)a', '(?<=a)b', '(?!x)', '\\', '(', '[', 'a{1001}', 'a{2,1}', '(a{1000}){1000}', '((a{100}){100}){100}', '(?i)((a|b|c|d|e)*)*z', '[^\\x00-\\x{10FFFF}]',
  '\\p{Greek}+', '\\pN', '.*'.repeat(100), 'a'.repeat(256), 'a'.repeat(257), '(a|b)'.repeat(51), `(${'a|'.repeat(120)}b)`, '\u0000', '\ud800', '(?P<n>a)', '\\Q(a+)+\\E',
];
const HOSTILE_SUBJECTS = ['a'.repeat(30) + '!', 'a'.repeat(5_000) + '!', 'x'.repeat(100_000), '🎉'.repeat(1000), 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab', ''];

function hostileCondition(rng: Rng): Record<string, unknown> {
  const operator = rng.pick(['$regex', '$regex', '$regexi', '$not']);
  const pattern = rng.chance(0.85) ? rng.pick(HOSTILE_PATTERNS) : nastyString(rng).slice(0, rng.pick([100, 300, 5000]));
  const leaf = operator === '$not' ? { $not: { $regex: pattern } } : { [operator]: pattern };
  const attribute = rng.pick(['email', 'plan', 'name', 'tags']);
  return rng.chance(0.3) ? { $or: [{ [attribute]: leaf }, { country: { $regex: rng.pick(HOSTILE_PATTERNS) } }] } : { [attribute]: leaf };
}

function hostileRegexRequest(rng: Rng): TRequest {
  const user = { id: `fuzz-user-${rng.int(500)}`, attributes: { email: rng.pick(HOSTILE_SUBJECTS), plan: rng.pick(HOSTILE_SUBJECTS), name: rng.pick(HOSTILE_SUBJECTS), tags: [rng.pick(HOSTILE_SUBJECTS)], country: 'DE' } };
  switch (rng.int(5)) {
    case 0:
      return graphqlPost(SECRET_KEY, { query: 'mutation($i: SegmentInput!) { createSegment(input: $i) { __typename ... on ValidationError { issues { path message } } } }', variables: { i: { key: `rx-${rng.int(1e9)}`, name: 'Regex', condition: hostileCondition(rng) } } });
    case 1:
      return graphqlPost(SECRET_KEY, { query: 'mutation($k: String!, $i: UpdateSegmentInput!) { updateSegment(key: $k, input: $i) { __typename ... on ValidationError { issues { message } } } }', variables: { k: `fuzz-seg-${rng.int(3)}`, i: { condition: hostileCondition(rng) } } });
    case 2:
      return graphqlPost(SECRET_KEY, { query: 'query($c: JSON, $u: SampleUserInput!) { segmentMatches(condition: $c, user: $u) }', variables: { c: hostileCondition(rng), u: user } });
    case 3:
      return graphqlPost(SECRET_KEY, { query: 'mutation($k: String!, $i: UpdateFlowInput!) { updateFlow(key: $k, input: $i) { __typename } }', variables: { k: `fuzz-target-${rng.int(3)}`, i: { audience: { condition: hostileCondition(rng) } } } });
    default:
      // Evaluates the published flows whose segments carry the hostile patterns.
      return graphqlPost(PUBLIC_KEY, { query: ONBOARDING_DOCUMENT, variables: { user, placement: rng.pick(['main', 'fuzz']) } });
  }
}

function anonymousRequest(rng: Rng): TRequest {
  const credentials = rng.pick<Record<string, string>>([
    {}, {}, { authorization: 'Bearer' }, { authorization: 'Bearer ' }, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, { authorization: `Bearer dss_${'x'.repeat(40)}` },
    { authorization: 'Bearer null' }, { cookie: `doorstep_session=${'x'.repeat(rng.pick([10, 4000]))}` }, { authorization: `Bearer ${'\u00e9'.repeat(10)}` },
  ]);
  const email = () => rng.pick(['admin@example.com', 'a@b', '', 'x'.repeat(300) + '@example.com', nastyString(rng), '"@"@example.com', 'a@example.com\u0000']);
  const password = () => rng.pick(['correct horse battery staple', '', 'short', 'p'.repeat(rng.pick([201, 72, 100_000, 900_000])), nastyString(rng)]);
  const operations: TOperation[] = [
    { query: 'mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { __typename ... on ValidationError { issues { path } } } }', variables: { e: email(), p: password() } },
    { query: 'mutation($i: SetupInput!) { setupFirstAdmin(input: $i) { __typename ... on ValidationError { issues { path } } } }', variables: { i: { email: email(), name: nastyString(rng), password: password() } } },
    { query: 'mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { __typename } }', variables: { i: { token: nastyString(rng), name: nastyString(rng), password: password() } } },
    { query: 'query($t: String!) { invitation(token: $t) { email role } setupRequired me { email } }', variables: { t: nastyString(rng) } },
    { query: 'mutation { signOut }', variables: {} },
    { query: '{ flows { key } apiKeys { prefix } members { email } exportWorkspace }', variables: {} },
  ];
  const operation = rng.pick(operations);
  const body = rng.chance(0.4) ? mutate(rng, operation) : operation;
  return graphqlPost(null, body, credentials);
}

const FAMILIES: TFamily[] = [
  { name: 'management', weight: 22, make: managementRequest },
  { name: 'runtime', weight: 22, make: runtimeRequest },
  { name: 'http', weight: 18, make: malformedHttpRequest },
  { name: 'document', weight: 14, make: malformedDocumentRequest },
  { name: 'regex', weight: 12, make: hostileRegexRequest },
  { name: 'anonymous', weight: 12, make: anonymousRequest },
];
const TOTAL_WEIGHT = FAMILIES.reduce((sum, f) => sum + f.weight, 0);

function requestAt(seed: number, index: number): { family: string; request: TRequest } {
  const rng = new Rng(requestSeed(seed, index));
  let roll = rng.int(TOTAL_WEIGHT);
  const family = FAMILIES.find((f) => (roll -= f.weight) < 0)!;
  return { family: family.name, request: family.make(rng) };
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

type TAnswer = { status: number; headers: http.IncomingHttpHeaders; body: string; ms: number; error?: string };

function send(baseUrl: string, request: TRequest, agent: http.Agent): Promise<TAnswer> {
  const started = performance.now();
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: Omit<TAnswer, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, ms: performance.now() - started });
    };
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const headers: Record<string, string> = { ...request.headers };
    if (body && !request.chunked) headers['content-length'] = String(body.length);
    if (request.chunked) headers['transfer-encoding'] = 'chunked';
    let req: http.ClientRequest;
    try {
      req = http.request({ host: url.hostname, port: url.port, method: request.method, path: request.path, headers, agent, setHost: !('host' in headers) }, (res) => {
        if (request.stream && res.statusCode === 200 && String(res.headers['content-type']).startsWith('text/event-stream')) {
          res.destroy();
          return done({ status: 200, headers: res.headers, body: '' });
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: error.message }));
      });
    } catch (error) {
      // The client refuses headers it cannot send (a NUL in a value): nothing reached the server.
      return done({ status: -1, headers: {}, body: '', error: `not sent: ${(error as Error).message}` });
    }
    req.setTimeout(TIMEOUT_MS, () => {
      req.destroy();
      done({ status: 0, headers: {}, body: '', error: 'timeout' });
    });
    req.on('error', (error) => done({ status: 0, headers: {}, body: '', error: error.message }));
    if (body) req.end(body);
    else req.end();
  });
}

/** Text that betrays the server's internals, unless the request itself carried it. */
const LEAK_MARKERS: Array<[string, RegExp]> = [
  ['stack frame', /\n\s+at [\w.<>[\]]+ \(|\bat (?:async )?[\w.]+ \((?:file:|node:|\/)/],
  ['source path', /\/work\/|\/home\/|node_modules|api\/(?:src|dist)\//],
  ['Prisma', /Invalid `prisma\.|PrismaClient|prisma\.\w+\.\w+\(|P20\d\d/],
  ['PostgreSQL', /duplicate key|violates|syntax error at or near|relation "|column "|invalid input syntax for|22P02|23505|pglite/i],
  ['SQL', /\b(?:SELECT .+ FROM|INSERT INTO|UPDATE \S+ SET|DELETE FROM)\b/],
  ['JS error', /TypeError|ReferenceError|RangeError|SyntaxError: Unexpected token|Maximum call stack|Cannot read propert/],
];

type TFailure = { kind: string; family: string; index: number; status: number; request: string; answer: string };
type TStats = {
  requests: number; classes: Record<string, number>; byFamily: Record<string, Record<string, number>>; serverErrors: number; leaks: number; unexpected: number;
  timeouts: number; transport: number; closedOversized: number; notSent: number; failures: TFailure[]; startRssMb: number; maxRssMb: number; elapsedS: number; logErrors: number;
};

const newStats = (): TStats => ({
  requests: 0, classes: {}, byFamily: {}, serverErrors: 0, leaks: 0, unexpected: 0, timeouts: 0, transport: 0, closedOversized: 0, notSent: 0, failures: [],
  startRssMb: 0, maxRssMb: 0, elapsedS: 0, logErrors: 0,
});
const truncate = (text: string, n = 400) => (text.length > n ? `${text.slice(0, n)}… (${text.length} chars)` : text);
const describeRequest = (r: TRequest) => truncate(`${r.method} ${r.path} ${JSON.stringify(r.headers)}${r.body === undefined ? '' : ` ${r.body}`}`);

function isOversized(request: TRequest): boolean {
  const headerBytes = Object.entries(request.headers).reduce((sum, [name, value]) => sum + name.length + value.length + 4, request.path.length + 20);
  return Buffer.byteLength(request.body ?? '') > MAX_REQUEST_BODY_BYTES || headerBytes > MAX_HEADER_BYTES;
}

function judge(stats: TStats, family: string, index: number, request: TRequest, answer: TAnswer): void {
  stats.requests++;
  const statusClass = answer.status > 0 ? `${Math.floor(answer.status / 100)}xx`
    : answer.status === -1 ? 'not sent' : answer.error === 'timeout' ? 'timeout' : isOversized(request) ? 'closed (oversized)' : 'no answer';
  stats.classes[statusClass] = (stats.classes[statusClass] ?? 0) + 1;
  (stats.byFamily[family] ??= {})[statusClass] = (stats.byFamily[family][statusClass] ?? 0) + 1;
  const fail = (kind: string) => {
    if (stats.failures.length >= 200) return;
    stats.failures.push({ kind, family, index, status: answer.status, request: describeRequest(request), answer: truncate(answer.error ?? answer.body) });
  };
  if (answer.status === -1) {
    stats.notSent++;
    return;
  }
  if (answer.error === 'timeout') {
    stats.timeouts++;
    return fail('timeout');
  }
  if (answer.status === 0 && /EPIPE|ECONNRESET/.test(answer.error ?? '') && isOversized(request)) {
    // Refused (413 or 431) and closed before the client finished writing, which then fails.
    stats.closedOversized++;
    return;
  }
  if (answer.status === 0) {
    stats.transport++;
    return fail(`no answer (${answer.error})`);
  }
  if (answer.ms > TIMEOUT_MS) {
    stats.timeouts++;
    fail(`slow (${Math.round(answer.ms)} ms)`);
  }
  if (answer.status >= 500) {
    stats.serverErrors++;
    return fail('5xx');
  }
  const sent = `${request.path} ${JSON.stringify(request.headers)} ${request.body ?? ''}`;
  for (const [name, marker] of LEAK_MARKERS) {
    if (marker.test(answer.body) && !marker.test(sent)) {
      stats.leaks++;
      return fail(`leak: ${name}`);
    }
  }
  if (/INTERNAL_SERVER_ERROR|Unexpected error/.test(answer.body)) {
    stats.unexpected++;
    return fail('unexpected error');
  }
  if (answer.status === 429 && !/^\d+$/.test(String(answer.headers['retry-after']))) fail('429 without Retry-After');
}

// ---------------------------------------------------------------------------------------------
// The API process

type TApi = { url: string; child: ChildProcess; logFile: string; stop(): Promise<void> };

async function startApi(name: string, env: Record<string, string>): Promise<TApi> {
  const port = await freePort();
  const logFile = join(tmpdir(), `doorstep-fuzz-${SEED}-${name}.log`);
  const log = createWriteStream(logFile);
  const argv = ['api/dist/main.js'];
  // The server on core 0, the fuzzer elsewhere, as the benchmark does.
  const [command, args] = hasTaskset ? ['taskset', ['-c', '0', process.execPath, ...argv]] : [process.execPath, argv];
  const child = spawn(command, args, {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', DOORSTEP_API_PORT: String(port), DOORSTEP_API_HOST: '127.0.0.1',
      DOORSTEP_SEED_PUBLIC_KEY: PUBLIC_KEY, DOORSTEP_SEED_SECRET_KEY: SECRET_KEY, ...env,
    },
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${url}/healthz`);
  return {
    url, child, logFile,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }),
  };
}

function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function gql(api: TApi, key: string, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const response = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { ...json, ...auth(key) }, body: JSON.stringify({ query, variables }) });
  const body = await response.json() as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(`Setup request failed: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

/** Segments and published flows the fuzz updates: runtime requests then evaluate hostile conditions. */
async function prepare(api: TApi): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await gql(api, SECRET_KEY, 'mutation($i: SegmentInput!) { createSegment(input: $i) { __typename } }', { i: { key: `fuzz-seg-${i}`, name: `Fuzz ${i}`, condition: { email: { $regex: '@example\\.com$' } } } });
    await gql(api, SECRET_KEY, 'mutation($i: CreateFlowInput!) { createFlow(input: $i) { __typename } }', { i: { key: `fuzz-target-${i}`, name: `Fuzz target ${i}`, priority: 500 + i, placement: 'fuzz', audience: { segmentKey: `fuzz-seg-${i}` } } });
    await gql(api, SECRET_KEY, 'mutation($k: String!) { publishFlow(flowKey: $k, environmentKey: "production") { __typename } }', { k: `fuzz-target-${i}` });
  }
}

async function fuzz(api: TApi, stats: TStats, indices: number[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let next = 0;
  let lastProgress = Date.now();
  const started = performance.now();
  stats.startRssMb = rssMb(api.child.pid!);
  const sampler = setInterval(() => {
    stats.maxRssMb = Math.max(stats.maxRssMb, rssMb(api.child.pid!));
    if (Date.now() - lastProgress > 15_000) {
      lastProgress = Date.now();
      console.log(`  … ${stats.requests} / ${indices.length} requests, RSS ${Math.round(rssMb(api.child.pid!))} MB`);
    }
  }, 200);
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < indices.length) {
      const index = indices[next++];
      const { family, request } = requestAt(SEED, index);
      judge(stats, family, index, request, await send(api.url, request, agent));
    }
  }));
  clearInterval(sampler);
  stats.maxRssMb = Math.max(stats.maxRssMb, rssMb(api.child.pid!));
  stats.elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
}

/** With the default limits, valid anonymous requests from one address: 200 until refused, then 429 with Retry-After and nothing else. */
async function limitedPhase(api: TApi): Promise<{ statuses: Record<number, number>; problems: string[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const statuses: Record<number, number> = {};
  const problems: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < LIMITED_REQUESTS) {
      const request = next % 3 === 0 ? graphqlPost(null, { query: '{ setupRequired }' }) : next % 3 === 1 ? { method: 'GET', path: '/graphql?query={setupRequired}', headers: {} } : graphqlPost(null, { query: '{ setupRequired me { email } }' });
      const answer = await send(api.url, request, agent);
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      if (answer.status === 429 && !/^\d+$/.test(String(answer.headers['retry-after']))) problems.push(`429 without Retry-After: ${truncate(answer.body)}`);
      if (answer.status === 429 && !answer.body.includes('RATE_LIMITED')) problems.push(`429 without RATE_LIMITED: ${truncate(answer.body)}`);
      if (answer.status !== 200 && answer.status !== 429) problems.push(`status ${answer.status}: ${truncate(answer.error ?? answer.body)}`);
    }
  }));
  agent.destroy();
  if (!statuses[429]) problems.push(`no 429 after ${LIMITED_REQUESTS} anonymous requests from one address`);
  return { statuses, problems: [...new Set(problems)].slice(0, 10) };
}

/** The API still answers as it should after the fuzz. */
async function stillWorks(api: TApi): Promise<string[]> {
  const problems: string[] = [];
  const health = await fetch(`${api.url}/healthz`).then((r) => r.json(), (e: Error) => e.message);
  if ((health as { status?: string }).status !== 'ok') problems.push(`/healthz: ${JSON.stringify(health)}`);
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST', headers: { ...json, ...auth(PUBLIC_KEY) },
    body: JSON.stringify({ query: ONBOARDING_DOCUMENT, variables: { user: { id: `after-fuzz-${SEED}`, attributes: { plan: 'free' } }, locale: 'en' } }),
  }).catch((e: Error) => e);
  if (response instanceof Error) problems.push(`onboarding: ${response.message}`);
  else {
    const text = await response.text();
    if (response.status !== 200 || text.includes('"errors"') || !text.includes('"onboarding":{')) problems.push(`onboarding: ${response.status} ${truncate(text)}`);
  }
  return problems;
}

function logErrors(logFile: string): string[] {
  return readFileSync(logFile, 'utf8').split('\n').filter((line) => line.startsWith('[doorstep] error'));
}

type TReport = { database: string; stats: TStats; limited: { statuses: Record<number, number>; problems: string[] } | null; after: string[]; logLines: string[] };

async function runOn(database: string): Promise<TReport> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    let env: Record<string, string>;
    if (database === 'postgres') {
      const created = await createPostgresDatabase(ADMIN_URL, `doorstep_fuzz_${SEED}`);
      cleanups.push(created.drop);
      env = { DATABASE_URL: created.url };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'doorstep-fuzz-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      env = { DOORSTEP_DATA_DIR: dir };
    }
    const unlimited = await startApi(`${database}`, { ...env, DOORSTEP_RATE_LIMIT_RUNTIME: '0', DOORSTEP_RATE_LIMIT_ANONYMOUS: '0' });
    cleanups.unshift(unlimited.stop);
    await prepare(unlimited);
    const stats = newStats();
    const indices = ONLY === null ? Array.from({ length: REQUESTS }, (_, i) => i) : [ONLY];
    console.log(`${database}: ${indices.length} requests, ${CONCURRENCY} connections (API log: ${unlimited.logFile})`);
    await fuzz(unlimited, stats, indices);
    const after = await stillWorks(unlimited);
    await unlimited.stop();
    const logLines = logErrors(unlimited.logFile);
    stats.logErrors = logLines.length;

    let limited: TReport['limited'] = null;
    if (ONLY === null) {
      const api = await startApi(`${database}-limited`, env);
      cleanups.unshift(api.stop);
      limited = await limitedPhase(api);
      await api.stop();
    }
    return { database, stats, limited, after, logLines };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}

function print(reports: TReport[]): boolean {
  let ok = true;
  console.log(`\nFuzz seed ${SEED} (replay: FUZZ_SEED=${SEED}; one request: FUZZ_ONLY=<index>)\n`);
  const rows = reports.map(({ database, stats }) => ({
    database, requests: stats.requests, '2xx': stats.classes['2xx'] ?? 0, '3xx': stats.classes['3xx'] ?? 0, '4xx': stats.classes['4xx'] ?? 0, '5xx': stats.serverErrors,
    leaks: stats.leaks, unexpected: stats.unexpected, timeouts: stats.timeouts, 'no answer': stats.transport, 'log errors': stats.logErrors,
    'RSS at start MB': Math.round(stats.startRssMb), 'max RSS MB': Math.round(stats.maxRssMb), 'req/s': Math.round(stats.requests / stats.elapsedS),
  }));
  console.table(rows);
  for (const report of reports) {
    console.log(`\n${report.database}, status classes by family:`);
    console.table(report.stats.byFamily);
    if (report.stats.notSent > 0) console.log(`  (${report.stats.notSent} requests the HTTP client itself refused to send)`);
    if (report.stats.closedOversized > 0) console.log(`  (${report.stats.closedOversized} oversized requests refused and closed before the client finished sending them)`);
    if (report.limited) {
      console.log(`  default rate limits, ${LIMITED_REQUESTS} anonymous requests from one address: ${JSON.stringify(report.limited.statuses)}`);
      for (const problem of report.limited.problems) console.log(`  ✗ ${problem}`);
      if (report.limited.problems.length > 0) ok = false;
    }
    for (const problem of report.after) console.log(`  ✗ after the run: ${problem}`);
    if (report.after.length > 0) ok = false;
    if (report.stats.maxRssMb > MAX_RSS_MB) {
      console.log(`  ✗ RSS reached ${Math.round(report.stats.maxRssMb)} MB (bound ${MAX_RSS_MB} MB)`);
      ok = false;
    }
    const failures = report.stats.failures;
    if (failures.length > 0 || report.stats.transport > 0) ok = false;
    const seen = new Set<string>();
    for (const failure of failures) {
      const key = `${failure.kind} ${failure.family}`;
      if (seen.has(key)) continue;
      seen.add(key);
      console.log(`  ✗ ${failure.kind} [${failure.family}, FUZZ_ONLY=${failure.index}, status ${failure.status}]\n      request: ${failure.request}\n      answer:  ${failure.answer}`);
    }
    if (report.logLines.length > 0) {
      ok = false;
      for (const line of [...new Set(report.logLines)].slice(0, 5)) console.log(`  ✗ API log: ${truncate(line, 300)}`);
    }
  }
  console.log(ok ? '\nNo 5xx, no leaks, no timeouts.' : '\nFAILED');
  return ok;
}

console.log(`Fuzz seed ${SEED}`);
runtimeBuildOf();
const reports: TReport[] = [];
for (const database of DATABASES) reports.push(await runOn(database));
process.exit(print(reports) ? 0 : 1);
