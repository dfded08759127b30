import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { firstBrokenTurn } from '../../conversations/turn-hash.ts';
import type { Role } from '../../core/types.ts';
import { type Answer, CheckFailure, type DoctorHttp, describeAnswer, type SseEvent } from './http.ts';

/** The four post-deploy validations, in the order they run. */
export const CHECKS = [
  'token generation',
  'state persistence',
  'conversation continuity',
  'streaming response',
] as const;
export type CheckName = (typeof CHECKS)[number];

/** A token pair as `POST /v1/auth/token` answers it. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: string;
}

interface Turn {
  number: number;
  role: Role;
  content: string;
  createdAt: string;
  hash: string;
}

/** What the checks share: the client, the subject they act as, and the token the first check obtained. */
export interface DoctorContext {
  http: DoctorHttp;
  apiKey: string;
  subject: string;
  pair?: TokenPair;
  /** Conversations the checks opened, closed at the end. */
  opened: string[];
}

function expectStatus(answer: Answer, status: number, method: string, route: string): void {
  if (answer.status !== status) throw new CheckFailure(describeAnswer(method, route, answer));
}

function tokenOf(ctx: DoctorContext): string {
  if (!ctx.pair) throw new CheckFailure('not run: it needs an access token, and token generation failed');
  return ctx.pair.access_token;
}

async function openConversation(ctx: DoctorContext, token: string, title: string): Promise<string> {
  const created = await ctx.http.json<{ id: string }>('POST', '/v1/conversations', {
    token,
    body: { title, clientKey: `continuum-doctor-${randomUUID()}` },
  });
  expectStatus(created, 201, 'POST', '/v1/conversations');
  ctx.opened.push(created.body.id);
  return created.body.id;
}

async function append(ctx: DoctorContext, token: string, id: string, role: Role, content: string, expected: number) {
  const route = `/v1/conversations/${id}/turns`;
  const answer = await ctx.http.json<{ turn: Turn }>('POST', route, {
    token,
    body: { role, content, expectedTurn: expected },
    headers: { 'idempotency-key': `continuum-doctor-${randomUUID()}` },
  });
  expectStatus(answer, 201, 'POST', route);
  return answer.body.turn;
}

/** Token generation: an api_key grant answers a pair whose access token verifies against the published JWKS. */
export async function tokenGeneration(ctx: DoctorContext): Promise<string> {
  const route = '/v1/auth/token';
  const answer = await ctx.http.json<TokenPair>('POST', route, {
    body: { grant_type: 'api_key', api_key: ctx.apiKey, subject: ctx.subject, scope: 'conversations' },
  });
  expectStatus(answer, 200, 'POST', route);
  const pair = answer.body;
  if (typeof pair.access_token !== 'string' || typeof pair.refresh_token !== 'string' || pair.token_type !== 'Bearer') {
    throw new CheckFailure('POST /v1/auth/token answered 200 without a Bearer access token and a refresh token');
  }
  const jwks = await ctx.http.json<JSONWebKeySet>('GET', '/.well-known/jwks.json');
  expectStatus(jwks, 200, 'GET', '/.well-known/jwks.json');
  const { kid, alg } = decodeProtectedHeader(pair.access_token);
  let payload: { sub?: string; exp?: number; iat?: number };
  try {
    ({ payload } = await jwtVerify(pair.access_token, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'] }));
  } catch (error) {
    throw new CheckFailure(
      `the access token does not verify against /.well-known/jwks.json: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (payload.sub !== ctx.subject) throw new CheckFailure(`the access token is for ${payload.sub}, not ${ctx.subject}`);
  ctx.pair = pair;
  return `token pair issued (${alg}, kid ${kid}); the access token verifies against /.well-known/jwks.json and lasts ${pair.expires_in} s`;
}

/** State persistence: written turns read back the same, and their hash chain holds from genesis. */
export async function statePersistence(ctx: DoctorContext): Promise<string> {
  const token = tokenOf(ctx);
  const id = await openConversation(ctx, token, 'continuum doctor: state persistence');
  const lines: [Role, string][] = [
    ['user', 'Checking that turns persist: first line.'],
    ['clinician', 'Second line, from the clinician.'],
    ['user', 'Third line; the chain must verify.'],
  ];
  const written: Turn[] = [];
  for (const [role, content] of lines) written.push(await append(ctx, token, id, role, content, written.length));
  const route = `/v1/conversations/${id}/turns?after=0&limit=100`;
  const read = await ctx.http.json<{ items: Turn[] }>('GET', route, { token });
  expectStatus(read, 200, 'GET', route);
  const items = read.body.items;
  if (items.length !== written.length) {
    throw new CheckFailure(`wrote ${written.length} turns, read back ${items.length}`);
  }
  for (const [i, turn] of items.entries()) {
    const mine = written[i]!;
    if (turn.number !== mine.number || turn.content !== mine.content || turn.role !== mine.role) {
      throw new CheckFailure(`turn ${i + 1} read back differs from what was written`);
    }
  }
  const broken = firstBrokenTurn(id, items);
  if (broken !== null) throw new CheckFailure(`the hash chain breaks at turn ${broken}`);
  const head = await ctx.http.json<{ turn: number }>('GET', `/v1/conversations/${id}`, { token });
  expectStatus(head, 200, 'GET', `/v1/conversations/${id}`);
  if (head.body.turn !== written.length) {
    throw new CheckFailure(`the conversation says turn ${head.body.turn}, ${written.length} were written`);
  }
  return `${written.length} turns written and read back identical; hash chain verified from genesis to turn ${written.length}`;
}

/** Conversation continuity: after a token refresh, the new token reads the same conversation with its memory. */
export async function conversationContinuity(ctx: DoctorContext): Promise<string> {
  const token = tokenOf(ctx);
  const id = await openConversation(ctx, token, 'continuum doctor: continuity');
  await append(ctx, token, id, 'user', 'I take metformin 500 mg twice a day.', 0);
  const route = '/v1/auth/token';
  const refreshed = await ctx.http.json<TokenPair>('POST', route, {
    body: { grant_type: 'refresh_token', refresh_token: ctx.pair!.refresh_token },
  });
  expectStatus(refreshed, 200, 'POST', route);
  ctx.pair = refreshed.body;
  const fresh = refreshed.body.access_token;
  if (fresh === token) throw new CheckFailure('the refresh answered the same access token');
  const conversation = await ctx.http.json<{ id: string; turn: number }>('GET', `/v1/conversations/${id}`, {
    token: fresh,
  });
  expectStatus(conversation, 200, 'GET', `/v1/conversations/${id}`);
  if (conversation.body.turn !== 1) {
    throw new CheckFailure(`after the refresh the conversation is at turn ${conversation.body.turn}, not 1`);
  }
  const contextRoute = `/v1/conversations/${id}/context`;
  const context = await ctx.http.json<{ profile?: { medications?: { name?: string }[] } }>('GET', contextRoute, {
    token: fresh,
  });
  expectStatus(context, 200, 'GET', contextRoute);
  const inProfile = (context.body.profile?.medications ?? []).some((m) => /metformin/i.test(m.name ?? ''));
  if (!inProfile && !/metformin/i.test(JSON.stringify(context.body))) {
    throw new CheckFailure('after the refresh the working context no longer holds the earlier fact (metformin)');
  }
  return `the conversation survived a token refresh: the new token reads it, and its context still holds metformin (${inProfile ? 'profile' : 'recent turns'})`;
}

/** Streaming response: an SSE reply to a turn runs from `turn` through `delta`s to `done`. */
export async function streamingResponse(ctx: DoctorContext): Promise<string> {
  const token = tokenOf(ctx);
  const id = await openConversation(ctx, token, 'continuum doctor: streaming');
  const route = `/v1/conversations/${id}/turns`;
  const started = performance.now();
  let firstDelta: number | undefined;
  const result = await ctx.http.sse(route, {
    token,
    body: { role: 'user', content: 'Please confirm you can hear me.', expectedTurn: 0, respond: true },
    onEvent: (event: SseEvent) => {
      if (event.event === 'delta' && firstDelta === undefined) firstDelta = performance.now() - started;
    },
  });
  if (result.events.length === 0) {
    throw new CheckFailure(
      describeAnswer('POST', route, { status: result.status, headers: new Headers(), body: result.body }),
    );
  }
  const failed = result.events.find((event) => event.event === 'error');
  if (failed) throw new CheckFailure(`the reply stream ended with an error event: ${failed.data.slice(0, 300)}`);
  const deltas = result.events.filter((event) => event.event === 'delta').length;
  const done = result.events.find((event) => event.event === 'done');
  if (result.events[0]?.event !== 'turn') throw new CheckFailure('the reply stream did not start with the stored turn');
  if (!done) throw new CheckFailure(`the reply stream ended after ${deltas} deltas without a done event`);
  const reply = JSON.parse(done.data) as Turn;
  if (reply.role !== 'assistant' || reply.number !== 2) {
    throw new CheckFailure(`done carried turn ${reply.number} (${reply.role}), not the assistant's turn 2`);
  }
  const first = firstDelta === undefined ? '' : `; first delta after ${Math.round(firstDelta)} ms`;
  return `SSE reply completed: turn, ${deltas} delta event(s), done (assistant turn 2)${first}`;
}

/** Close what the checks opened and revoke their token family; failures here are not the deployment's. */
export async function cleanUp(ctx: DoctorContext): Promise<void> {
  const token = ctx.pair?.access_token;
  if (token === undefined) return;
  for (const id of ctx.opened) {
    await ctx.http.json('POST', `/v1/conversations/${id}/close`, { token }).catch(() => undefined);
  }
  await ctx.http.json('POST', '/v1/auth/revoke', { body: { token: ctx.pair!.refresh_token } }).catch(() => undefined);
}
