import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { ADMIN_TOKEN } from '../../helpers/test-app.ts';
import { within } from './property.ts';
import type { World } from './world.ts';

/**
 * Every route of the OpenAPI document, and for each the call it accepts.
 * Each hostile property changes exactly one part of that call (the token, a
 * path parameter, the query, a header, the body), so a refusal is due to
 * that one change — and were it accepted, the snapshot would show it.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call: nobody in particular, any access token of the tenant, an admin-scope token, the operator. */
export type Auth = 'none' | 'user' | 'admin' | 'operator';

/**
 * `probe`: public, reads no input (health, metrics, keys); `grant`: public,
 * reads its body (token grants); `api`: behind a token; `stream`: behind a
 * token, answers a good call with an endless SSE stream; `websocket`: speaks
 * WebSocket, a plain GET is refused.
 */
export type RouteClass = 'probe' | 'grant' | 'api' | 'stream' | 'websocket';

/** The parts of a call; path parameters and query values are decoded text. */
export interface Call {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteSpec {
  auth: Auth;
  class: RouteClass;
  /** A call the route accepts. */
  valid(world: World): Call;
}

const probe: RouteSpec = { auth: 'none', class: 'probe', valid: () => ({}) };
const operator = (valid: RouteSpec['valid'] = () => ({})): RouteSpec => ({ auth: 'operator', class: 'api', valid });
const user = (valid: RouteSpec['valid']): RouteSpec => ({ auth: 'user', class: 'api', valid });
const admin = (valid: RouteSpec['valid']): RouteSpec => ({ auth: 'admin', class: 'api', valid });
const conversation = (world: World) => ({ id: world.a.conversationId });

/** The generator table: a route of the OpenAPI document without an entry here fails `coverage.test.ts`. */
export const ROUTES: Record<string, RouteSpec> = {
  'get /healthz': probe,
  'get /readyz': probe,
  'get /metrics': probe,
  'get /.well-known/jwks.json': probe,
  'post /v1/auth/token': {
    auth: 'none',
    class: 'grant',
    valid: (w) => ({ body: { grant_type: 'api_key', api_key: w.a.apiKey, subject: 'patient-1' } }),
  },
  'post /v1/auth/revoke': {
    auth: 'none',
    class: 'grant',
    // A well-formed refresh token of no family: RFC 7009 answers 200 and nothing is revoked.
    valid: (w) => ({ body: { token: `crt.${w.a.tenantId}.${'A'.repeat(43)}` } }),
  },
  'post /v1/admin/tenants': operator(() => ({ body: { name: 'hostile-new' } })),
  'post /v1/admin/signing-keys/rotate': operator(),
  'get /v1/admin/flags': operator(),
  'put /v1/admin/flags/{name}': operator(() => ({ params: { name: 'retrieval' }, body: { enabled: false } })),
  'get /v1/admin/alerts': operator(),
  'post /v1/conversations': user(() => ({ body: { title: 'Another visit' } })),
  'get /v1/conversations': user(() => ({ query: { limit: '5' } })),
  'get /v1/conversations/{id}': user((w) => ({ params: conversation(w) })),
  'post /v1/conversations/{id}/close': user((w) => ({ params: conversation(w) })),
  'post /v1/conversations/{id}/turns': user((w) => ({
    params: conversation(w),
    body: { role: 'user', content: 'The rash is back since Monday.', expectedTurn: w.a.turn },
  })),
  'get /v1/conversations/{id}/turns': user((w) => ({ params: conversation(w), query: { after: '0', limit: '10' } })),
  'get /v1/conversations/{id}/context': user((w) => ({ params: conversation(w), query: { q: 'metformin dose' } })),
  'get /v1/conversations/{id}/profile': user((w) => ({ params: conversation(w) })),
  'get /v1/conversations/{id}/search': user((w) => ({
    params: conversation(w),
    query: { q: 'penicillin', limit: '5' },
  })),
  'patch /v1/conversations/{id}/profile': admin((w) => ({
    params: conversation(w),
    body: { op: 'correct', fact: { kind: 'medication', id: 'med:metformin', dose: '1000 mg' } },
  })),
  'get /v1/conversations/{id}/events': { auth: 'user', class: 'stream', valid: (w) => ({ params: conversation(w) }) },
  'get /v1/conversations/{id}/participants': user((w) => ({ params: conversation(w) })),
  'post /v1/conversations/{id}/participants': user((w) => ({
    params: conversation(w),
    body: { subject: 'patient-4' },
  })),
  'delete /v1/conversations/{id}/participants/{subject}': user((w) => ({
    params: { ...conversation(w), subject: 'patient-3' },
  })),
  'get /v1/conversations/{id}/sync': { auth: 'none', class: 'websocket', valid: (w) => ({ params: conversation(w) }) },
  'get /v1/audit/events': admin(() => ({ query: { limit: '10' } })),
  'get /v1/audit/verify': admin(() => ({})),
  'get /v1/audit/report': admin(() => ({ query: { from: '2026-01-01T00:00:00Z' } })),
};

/** A parameter of an operation in the OpenAPI document. */
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

export type JsonSchema = Record<string, unknown>;

/** One operation of the OpenAPI document, with its entry in {@link ROUTES}. */
export interface Operation {
  key: string;
  method: Method;
  path: string;
  parameters: Parameter[];
  body?: JsonSchema;
  spec: RouteSpec | undefined;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>
  >;
}

/** Every operation the app's `/openapi.json` lists. */
export async function listOperations(world: World): Promise<Operation[]> {
  const doc = (await world.t.request({ method: 'GET', url: '/openapi.json' })).json() as OpenApiDocument;
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const key = `${method} ${path}`;
      const body = op.requestBody?.content?.['application/json']?.schema;
      return {
        key,
        method: method.toUpperCase() as Method,
        path,
        parameters: op.parameters ?? [],
        ...(body ? { body } : {}),
        spec: ROUTES[key],
      };
    }),
  );
}

/** The operation's spec; throws for a route without one (coverage.test.ts reports those). */
export function specOf(op: Operation): RouteSpec {
  if (!op.spec) throw new Error(`${op.key} has no entry in test/hostile/support/routes.ts ROUTES`);
  return op.spec;
}

export const queryParameters = (op: Operation) => op.parameters.filter((p) => p.in === 'query');
export const pathParameters = (op: Operation) => op.parameters.filter((p) => p.in === 'path');

/** The bearer token a valid call of the route carries. */
export function tokenOf(spec: RouteSpec, world: World): string | undefined {
  switch (spec.auth) {
    case 'none':
      return undefined;
    case 'user':
      return world.a.owner.access_token;
    case 'admin':
      return world.a.admin.access_token;
    case 'operator':
      return ADMIN_TOKEN;
  }
}

/** `/v1/…` with each `{param}` filled: from `raw` as given (URL text), else percent-encoded from `params`. */
export function pathOf(op: Operation, params: Record<string, string> = {}, raw: Record<string, string> = {}): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => raw[name] ?? encodeURIComponent(params[name] ?? ''));
}

export function queryOf(query: Record<string, string> = {}): string {
  const pairs = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

/** What a hostile variant of a call replaces; anything not given comes from the valid call. */
export interface Variant {
  /** The whole Authorization header; `null` sends none. */
  authorization?: string | string[] | null;
  rawParams?: Record<string, string>;
  params?: Record<string, string>;
  /** The query string as URL text, with its `?`. */
  rawQuery?: string;
  headers?: Record<string, string | string[]>;
  /** A JSON value to send as the body, or raw bytes / text (sent as given). */
  body?: unknown;
  payload?: string | Buffer;
  contentType?: string | null;
  method?: Method;
}

/** Send a variant of `op`'s valid call in-process; a request that does not answer within 5 s fails. */
export async function send(world: World, op: Operation, variant: Variant = {}): Promise<LightMyRequestResponse> {
  const spec = specOf(op);
  const call = spec.valid(world);
  const token = tokenOf(spec, world);
  const headers: Record<string, string | string[]> = { ...call.headers };
  const authorization = variant.authorization === undefined ? token && `Bearer ${token}` : variant.authorization;
  if (authorization !== null && authorization !== undefined) headers['authorization'] = authorization;
  Object.assign(headers, variant.headers);
  let payload: string | Buffer | undefined = variant.payload;
  if (payload === undefined) {
    const body = 'body' in variant ? variant.body : call.body;
    if (body !== undefined) payload = JSON.stringify(body);
  }
  if (payload !== undefined) {
    const type = variant.contentType === undefined ? 'application/json' : variant.contentType;
    if (type !== null) headers['content-type'] = type;
  }
  const url =
    pathOf(op, { ...call.params, ...variant.params }, variant.rawParams) + (variant.rawQuery ?? queryOf(call.query));
  const options: InjectOptions = {
    method: variant.method ?? op.method,
    url,
    headers: headers as InjectOptions['headers'],
    ...(payload === undefined ? {} : { payload }),
  };
  return within(world.t.app.inject(options), 5_000, `${options.method} ${url.slice(0, 200)}`);
}
