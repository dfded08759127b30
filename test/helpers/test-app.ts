import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Config, configWith } from '../../src/config/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import type { Role } from '../../src/core/types.ts';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { type AppDeps, buildApp, type ContinuumApp } from '../../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../../src/server/runtime.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';

export const ADMIN_TOKEN = 'test-operator-token-0123456789';

export interface TestAppOptions {
  /** Share a data dir (database file and master key) with another instance. */
  dataDir?: string;
  clock?: FakeClock;
  config?: Partial<Record<keyof Config, unknown>>;
  /** Replace the configured model provider (e.g. one driven against a loopback fake). */
  model?: AppDeps['model'];
  /** Replace the built-in intent router (e.g. with a broken one, to see /readyz say so). */
  intentRouter?: AppDeps['intentRouter'];
  /** Capture the app's real (redacted) log lines here instead of discarding them. */
  logStream?: { write(line: string): void };
}

export interface TestApp extends ContinuumApp {
  clock: FakeClock;
  dataDir: string;
  dbFile: string;
  /** Call the app in-process (no port). */
  request(options: RequestOptions): Promise<LightMyRequestResponse>;
  createTenant(name?: string): Promise<{ tenantId: string; apiKey: string }>;
  token(apiKey: string, subject: string, scope?: 'conversations' | 'admin'): Promise<TokenPair>;
  /**
   * A conversation with turns already in it, made over HTTP: a tenant (new
   * unless `tenant` is given), an access token for `subject`, POST
   * /v1/conversations, then one append per turn with `expectedTurn` = n.
   * Throws with the response body if any step is refused.
   *
   * @example
   * const { token, id } = await t.conversationWithTurns({ turns: 3, content: (n) => `t${n}` });
   */
  conversationWithTurns(options?: ConversationWithTurnsOptions): Promise<ConversationWithTurns>;
  close(): Promise<void>;
}

export interface ConversationWithTurnsOptions {
  /** An existing tenant to add the conversation to; a new tenant is created otherwise. */
  tenant?: { tenantId: string; apiKey: string };
  /** The token's subject (the conversation's owner); default `patient-1`. */
  subject?: string;
  /** How many turns to append; default the length of `content` when it is a list, else 3. */
  turns?: number;
  /** The text of turn n (0-based, the append's expectedTurn), or the texts in order; default `turn ${n + 1}`. */
  content?: ((n: number) => string) | readonly string[];
  /** The role of every turn; default `user`. */
  role?: Role;
}

export interface ConversationWithTurns {
  apiKey: string;
  tenantId: string;
  /** An access token of `subject`, scope `conversations`. */
  token: string;
  /** The conversation's id. */
  id: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in: number;
  scope: string;
  token_type: string;
}

export interface RequestOptions {
  method: InjectOptions['method'];
  url: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

let tenantCounter = 0;

/**
 * A real app on a real SQLite file and a real local master key in a temp
 * dir, with a fake clock. Nothing is mocked.
 */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'continuum-test-'));
  const clock = options.clock ?? new FakeClock(Date.UTC(2026, 10, 25, 8, 0, 0));
  const config = configWith({
    dataDir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    logLevel: 'silent',
    ...options.config,
  });
  const dbFile = path.join(dataDir, SQLITE_FILE);
  const store = createSqliteStore({ filename: dbFile });
  await store.migrate();
  const keyProvider = await createLocalKeyProvider({ keyFile: path.join(dataDir, MASTER_KEY_FILE) });
  const built = await buildApp(config, {
    store,
    keyProvider,
    adminToken: ADMIN_TOKEN,
    clock,
    ...(options.intentRouter === undefined ? {} : { intentRouter: options.intentRouter }),
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.logStream === undefined ? { logger: false as const } : { logStream: options.logStream }),
  });

  const request = (o: RequestOptions) =>
    built.app.inject({
      method: o.method,
      url: o.url,
      headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers },
      ...(o.body === undefined ? {} : { payload: o.body as InjectOptions['payload'] }),
    });

  const createTenant: TestApp['createTenant'] = async (name = `tenant-${process.pid}-${++tenantCounter}`) => {
    const res = await request({ method: 'POST', url: '/v1/admin/tenants', token: ADMIN_TOKEN, body: { name } });
    if (res.statusCode !== 201) throw new Error(`createTenant: ${res.statusCode} ${res.body}`);
    return res.json() as { tenantId: string; apiKey: string };
  };

  const token: TestApp['token'] = async (apiKey, subject, scope = 'conversations') => {
    const res = await request({
      method: 'POST',
      url: '/v1/auth/token',
      body: { grant_type: 'api_key', api_key: apiKey, subject, scope },
    });
    if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
    return res.json() as TokenPair;
  };

  const conversationWithTurns: TestApp['conversationWithTurns'] = async (o = {}) => {
    const texts = o.content;
    const turns = o.turns ?? (typeof texts === 'object' ? texts.length : 3);
    if (typeof texts === 'object' && texts.length !== turns) {
      throw new TypeError(`conversationWithTurns: ${texts.length} contents for ${turns} turns`);
    }
    const contentOf = typeof texts === 'function' ? texts : (n: number) => texts?.[n] ?? `turn ${n + 1}`;
    const { tenantId, apiKey } = o.tenant ?? (await createTenant());
    const { access_token } = await token(apiKey, o.subject ?? 'patient-1');
    const created = await request({ method: 'POST', url: '/v1/conversations', token: access_token, body: {} });
    if (created.statusCode !== 201) throw new Error(`create conversation: ${created.statusCode} ${created.body}`);
    const id = created.json().id as string;
    for (let n = 0; n < turns; n++) {
      const res = await request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token: access_token,
        body: { role: o.role ?? 'user', content: contentOf(n), expectedTurn: n },
      });
      if (res.statusCode !== 201) throw new Error(`append turn ${n + 1}: ${res.statusCode} ${res.body}`);
    }
    return { apiKey, tenantId, token: access_token, id };
  };

  return {
    ...built,
    clock,
    dataDir,
    dbFile,
    request,
    createTenant,
    token,
    conversationWithTurns,
    async close() {
      await built.app.close();
      await store.close();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A temp dir for tests that share one between app instances. */
export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'continuum-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
