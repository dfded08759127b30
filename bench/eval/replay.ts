/**
 * Replays conversations through the real HTTP append path of one in-process
 * app (docs/EVALUATION.md §7) and returns each one's final working context.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { type Config, configWith } from '../../src/config/index.ts';
import type { Profile } from '../../src/context/profile/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { buildApp, type ContinuumApp } from '../../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../../src/server/runtime.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import type { EvalConversation } from './dataset.ts';
import type { ContextView } from './score.ts';

/** The fake clock's start: fixed, so every run sees the same times. */
export const CLOCK_START = Date.UTC(2026, 0, 1, 0, 0, 0);
/** Fake time between two turns of a conversation. */
export const TURN_GAP_MS = 5_000;
/** Fake time between two conversations. */
export const CONVERSATION_GAP_MS = 60_000;

const ADMIN_TOKEN = 'eval-operator-token-0123456789abcdef';
const SUBJECT = 'eval-clinician';
/** Re-issue the access token well before its lifetime (30 min by default) runs out in fake time. */
const TOKEN_REFRESH_MS = 10 * 60_000;

/** The final `GET …/context` body, as far as the evaluation reads it. */
export interface ContextBody extends ContextView {
  profile: Profile;
  recent: { number: number; content: string }[];
  retrieved: { number: number; content: string }[];
  tokens: number;
  budget: number;
}

/** What one replay measured. */
export interface ReplayResult {
  /** Wall time of each `POST …/turns` (includes the incremental working-context update). */
  appendMs: number[];
  /** Wall time of `GET …/context` after each append, when asked for. */
  contextMs: number[];
  /** Wall time of the final `GET …/context`. */
  finalContextMs: number;
  context: ContextBody;
}

/** One app instance on a temp SQLite dir with a fake clock; one tenant, one subject. */
export class Replayer {
  #token = '';
  #tokenAt = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly built: ContinuumApp,
    /** The app's clock. */
    readonly clock: FakeClock,
    /** The settings the app runs with (context budget, recent window, ...). */
    readonly config: Config,
    private readonly closeStore: () => Promise<void>,
    private readonly dataDir: string,
    private readonly apiKey: string,
  ) {}

  /** Build the app (default context settings; rate and session limits off) and a tenant. */
  static async open(): Promise<Replayer> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-eval-'));
    try {
      return await Replayer.#openIn(dataDir);
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  static async #openIn(dataDir: string): Promise<Replayer> {
    const config = configWith({
      dataDir,
      rateLimitPerTenant: 0,
      rateLimitPerSubject: 0,
      maxSessionsPerTenant: 0,
      logLevel: 'silent',
    });
    const store = createSqliteStore({ filename: path.join(dataDir, SQLITE_FILE), synchronous: config.sqliteSync });
    await store.migrate();
    const keyProvider = await createLocalKeyProvider({ keyFile: path.join(dataDir, MASTER_KEY_FILE) });
    const clock = new FakeClock(CLOCK_START);
    const built = await buildApp(config, { store, keyProvider, adminToken: ADMIN_TOKEN, clock, logger: false });
    const res = await built.app.inject({
      method: 'POST',
      url: '/v1/admin/tenants',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { name: 'eval' },
    });
    expectStatus(res, 201, 'create tenant');
    const { apiKey } = res.json() as { apiKey: string };
    return new Replayer(built, clock, config, () => store.close(), dataDir, apiKey);
  }

  /**
   * Replay one conversation into a new conversation: each turn appended with
   * `expectedTurn`, the clock 5 s further each time; `GET …/context` after
   * every append when `timeEveryTurn`, and once at the end.
   */
  async replay(conversation: EvalConversation, timeEveryTurn: boolean): Promise<ReplayResult> {
    this.clock.advance(CONVERSATION_GAP_MS);
    const created = await this.#request('POST', '/v1/conversations', { title: `eval ${conversation.id}` });
    expectStatus(created, 201, `create conversation for ${conversation.id}`);
    const id = (created.json() as { id: string }).id;
    const appendMs: number[] = [];
    const contextMs: number[] = [];
    for (const [index, turn] of conversation.turns.entries()) {
      this.clock.advance(TURN_GAP_MS);
      const started = performance.now();
      const res = await this.#request('POST', `/v1/conversations/${id}/turns`, {
        role: turn.role,
        content: turn.text,
        expectedTurn: index,
      });
      appendMs.push(performance.now() - started);
      expectStatus(res, 201, `append turn ${index + 1} of ${conversation.id}`);
      if (timeEveryTurn) {
        const t0 = performance.now();
        const ctx = await this.#request('GET', `/v1/conversations/${id}/context`);
        contextMs.push(performance.now() - t0);
        expectStatus(ctx, 200, `context after turn ${index + 1} of ${conversation.id}`);
      }
    }
    const t0 = performance.now();
    const final = await this.#request('GET', `/v1/conversations/${id}/context`);
    const finalContextMs = performance.now() - t0;
    expectStatus(final, 200, `final context of ${conversation.id}`);
    return { appendMs, contextMs, finalContextMs, context: final.json() as ContextBody };
  }

  async close(): Promise<void> {
    await this.built.app.close();
    await this.closeStore();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async #request(method: 'GET' | 'POST', url: string, body?: unknown): Promise<LightMyRequestResponse> {
    if (this.clock.now() - this.#tokenAt > TOKEN_REFRESH_MS) await this.#refreshToken();
    return this.built.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${this.#token}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });
  }

  async #refreshToken(): Promise<void> {
    const res = await this.built.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      payload: { grant_type: 'api_key', api_key: this.apiKey, subject: SUBJECT, scope: 'conversations' },
    });
    expectStatus(res, 200, 'issue access token');
    this.#token = (res.json() as { access_token: string }).access_token;
    this.#tokenAt = this.clock.now();
  }
}

function expectStatus(res: LightMyRequestResponse, status: number, what: string): void {
  if (res.statusCode !== status) throw new Error(`${what}: HTTP ${res.statusCode} ${res.body.slice(0, 500)}`);
}
