/**
 * A simulated client: one patient (a subject of the tenant) with its token
 * pair and one conversation, as an SDK would drive them — sign in with the
 * API key, refresh, and on `401 token_expired` refresh once and retry. Every
 * request is recorded (latency when it did what it should, else its code).
 * Each patient plants a marker of its own in its first turn; a marker of
 * another patient in anything it reads is a leak.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';

export { firstBrokenTurn } from '../../src/conversations/turn-hash.ts';

import { type CallOptions, type CallResult, call, outcomeOf } from './http.ts';
import { LOAD_ADMIN_TOKEN } from './node-process.ts';
import type { Recorder } from './recorder.ts';

/** A turn as the API returns it. */
export interface Turn {
  number: number;
  role: 'user' | 'clinician' | 'assistant' | 'system';
  content: string;
  createdAt: string;
  hash: string;
}

/** Markers look like `ptref` + 10 lowercase letters or digits: one word to the tokenizer and to BM25. */
export const MARKER_PATTERN = /ptref[a-z0-9]{10}/g;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function newMarker(): string {
  return `ptref${[...randomBytes(10)].map((b) => ALPHABET[b % ALPHABET.length]).join('')}`;
}

/** How many markers other than `own` the text holds (another patient's data: must be 0). */
export function foreignMarkers(text: string, own: string): number {
  let count = 0;
  for (const match of text.matchAll(MARKER_PATTERN)) if (match[0] !== own) count++;
  return count;
}

export interface Tenant {
  tenantId: string;
  apiKey: string;
}

/** Create a tenant with the operator token. */
export async function createTenant(url: string, name: string): Promise<Tenant> {
  const res = await call<Tenant>(`${url}/v1/admin/tenants`, {
    method: 'POST',
    token: LOAD_ADMIN_TOKEN,
    body: { name },
  });
  if (res.status !== 201) throw new Error(`create tenant ${name}: ${outcomeOf(res)} ${res.text.slice(0, 300)}`);
  return res.body;
}

interface TokenPair {
  access_token: string;
  refresh_token: string;
}

export class Patient {
  readonly subject: string;
  readonly marker: string;
  conversationId = '';
  /** The last turn number this client knows to be stored. */
  turn = 0;
  access = '';
  refresh = '';
  refreshes = 0;
  signIns = 0;
  /** `401 token_expired` answers met (each followed by a refresh and a retry). */
  expiredSeen = 0;
  /** Markers of other patients seen in this patient's reads. */
  leaks = 0;
  /**
   * This client's own keep-alive connection, as a real client has: opened at sign-in, reused for
   * every request after (a burst of new connections from many clients at once is not what a node sees).
   */
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly #apiKey: string;
  #recorder: Recorder;

  constructor(tenant: Tenant, subject: string, recorder: Recorder) {
    this.#apiKey = tenant.apiKey;
    this.subject = subject;
    this.marker = newMarker();
    this.#recorder = recorder;
  }

  /** Record into `recorder` from now on (set-up and the measured phase count apart). */
  useRecorder(recorder: Recorder): void {
    this.#recorder = recorder;
  }

  /** `api_key` grant: a new token pair. */
  async signIn(url: string): Promise<boolean> {
    const res = await call<TokenPair>(`${url}/v1/auth/token`, {
      method: 'POST',
      agent: this.agent,
      body: { grant_type: 'api_key', api_key: this.#apiKey, subject: this.subject, scope: 'conversations' },
    });
    if (!this.#check('token.api_key', res, [200])) return false;
    this.access = res.body.access_token;
    this.refresh = res.body.refresh_token;
    this.signIns++;
    return true;
  }

  /** `refresh_token` grant; when the refresh token itself is no longer good (expired family), sign in again. */
  async refreshTokens(url: string): Promise<boolean> {
    const res = await call<TokenPair>(`${url}/v1/auth/token`, {
      method: 'POST',
      agent: this.agent,
      body: { grant_type: 'refresh_token', refresh_token: this.refresh },
    });
    if (res.status === 401 && (res.body as { code?: string }).code === 'invalid_grant') {
      this.#recorder.ok('token.refresh (refused: expired, signed in again)', res.ms);
      return this.signIn(url);
    }
    if (!this.#check('token.refresh', res, [200])) return false;
    this.access = res.body.access_token;
    this.refresh = res.body.refresh_token;
    this.refreshes++;
    return true;
  }

  /**
   * An authenticated request; on `401 token_expired`, refresh and retry
   * once. Recorded under `op`: success when the status is one of `expect`.
   */
  async send<T = Record<string, unknown>>(
    url: string,
    op: string,
    route: string,
    options: CallOptions,
    expect: number[],
  ): Promise<CallResult<T> & { ok: boolean }> {
    let res = await call<T>(`${url}${route}`, { agent: this.agent, ...options, token: this.access });
    if (res.status === 401 && (res.body as { code?: string }).code === 'token_expired') {
      this.expiredSeen++;
      if (await this.refreshTokens(url)) {
        res = await call<T>(`${url}${route}`, { agent: this.agent, ...options, token: this.access });
      }
    }
    const ok = this.#check(op, res, expect);
    if (ok) this.leaks += foreignMarkers(res.text, this.marker);
    return { ...res, ok };
  }

  /**
   * Append one turn at the turn this client knows, with a new idempotency key; with `respond`, the reply
   * comes back too. Recorded as `append` or `append+reply`.
   */
  append(url: string, turn: { role: string; content: string }, respond: boolean) {
    return this.send<{ turn: Turn; reply?: Turn }>(
      url,
      respond ? 'append+reply' : 'append',
      `/v1/conversations/${this.conversationId}/turns`,
      {
        method: 'POST',
        body: {
          role: turn.role,
          content: turn.content,
          expectedTurn: this.turn,
          ...(respond ? { respond: true } : {}),
        },
        headers: { 'idempotency-key': randomUUID() },
      },
      [201],
    );
  }

  /** Create this patient's conversation (with a client key, so a retried create lands on the same one). */
  async createConversation(url: string): Promise<boolean> {
    const res = await this.send<{ id: string }>(
      url,
      'conversation.create',
      '/v1/conversations',
      { method: 'POST', body: { title: `visit of ${this.subject}`, clientKey: `load-${this.subject}` } },
      [200, 201],
    );
    if (res.ok) this.conversationId = res.body.id;
    return res.ok;
  }

  /** Every turn, oldest first (undefined when a page could not be read). */
  async allTurns(url: string): Promise<Turn[] | undefined> {
    const turns: Turn[] = [];
    for (;;) {
      const res = await this.send<{ items: Turn[] }>(
        url,
        'turns.list',
        `/v1/conversations/${this.conversationId}/turns?after=${turns.length}&limit=200`,
        {},
        [200],
      );
      if (!res.ok) return undefined;
      turns.push(...res.body.items);
      if (res.body.items.length < 200) return turns;
    }
  }

  #check(op: string, res: CallResult<unknown>, expect: number[]): boolean {
    if (expect.includes(res.status)) {
      this.#recorder.ok(op, res.ms);
      return true;
    }
    this.#recorder.fail(op, outcomeOf(res), res.text || res.failure);
    return false;
  }
}

/** Run `fn` over `items` with at most `limit` running at once. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
