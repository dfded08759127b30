import type { BackoffOptions } from './backoff.ts';
import { ConversationsApi } from './conversations-api.ts';
import type { ContinuumError } from './errors.ts';
import { EventFollower, type FollowOptions } from './event-follower.ts';
import { type ClientStats, createStats } from './stats.ts';
import { SyncConnection } from './sync.ts';
import type { SyncOptions } from './sync-types.ts';
import { type RefreshAt, TokenManager, type TokenManagerOptions } from './token-manager.ts';
import { Transport } from './transport.ts';
import { TurnsApi } from './turns-api.ts';
import type { Clock, FetchLike, Scope } from './types.ts';

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The server's base URL, e.g. `https://continuum.example.org` (no `/v1`). */
  baseUrl: string;
  /** The tenant's API key. */
  apiKey: string;
  /** Who the client speaks for: a patient's chat, a clinician. */
  subject: string;
  /** `conversations` (default: the subject's own) or `admin` (the whole tenant, audit, profile corrections). */
  scope?: Scope;
  /** Default the global `fetch`. */
  fetch?: FetchLike;
  /** Where "now" comes from (default `Date.now`): token refreshes are timed with it. */
  clock?: Clock;
  /** When to refresh the access token, seconds after it arrived (default `expires_in − 300`: 25 minutes). */
  refreshAt?: RefreshAt;
  /** Retries of reads and appends after a network failure (default 2). */
  networkRetries?: number;
  /** Pacing of retries and reconnects. */
  backoff?: BackoffOptions;
  /** See {@link TokenManagerOptions.onRefreshRejected}. */
  onRefreshRejected?: (error: ContinuumError) => void;
}

/**
 * A Continuum client for one subject: tokens handled for you (cached,
 * refreshed at 25 minutes, single flight, one retry after `token_expired`),
 * conversations, turns (with rebase on conflict), the working context,
 * streamed replies and live events that resume after a dropped connection,
 * and WebSocket sync. Works in Node 20 and in browsers.
 *
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey, subject: 'patient-42' });
 * const conversation = await client.conversations.create({ title: 'intake' });
 * const reply = client.turns.append(conversation.id, {
 *   role: 'user', content: 'I take metformin 500 mg twice a day.', expectedTurn: 0, respond: true, stream: true,
 * });
 * for await (const event of reply) if (event.event === 'delta') process.stdout.write(event.data.text);
 * console.log(client.stats.tokenRequests); // 1
 */
export class ContinuumClient {
  /** Conversations and their working context. */
  readonly conversations: ConversationsApi;
  /** Turns: append (streamed or not), list, page through all. */
  readonly turns: TurnsApi;
  /** The token manager (its `accessToken()` serves other calls to the same server too). */
  readonly tokens: TokenManager;
  /** Live counters: token requests, requests, retries, reconnects, rebases. */
  readonly stats: ClientStats;
  readonly #transport: Transport;
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError('createClient needs baseUrl, an http(s) URL of the server');
    }
    this.#options = options;
    this.stats = createStats();
    this.tokens = new TokenManager({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      subject: options.subject,
      stats: this.stats,
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.refreshAt !== undefined ? { refreshAt: options.refreshAt } : {}),
      ...(options.onRefreshRejected ? { onRefreshRejected: options.onRefreshRejected } : {}),
    });
    this.#transport = new Transport({
      baseUrl: options.baseUrl,
      tokens: this.tokens,
      stats: this.stats,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.networkRetries !== undefined ? { networkRetries: options.networkRetries } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    this.conversations = new ConversationsApi(this.#transport);
    this.turns = new TurnsApi(this.#transport, this.stats);
  }

  /**
   * Follows every event of a conversation over SSE (`GET …/events`),
   * resuming after drops; see {@link EventFollower}.
   *
   * @example
   * for await (const event of client.events(id, { after: lastSeenId })) console.log(event.event, event.id);
   */
  events(conversationId: string, options: FollowOptions = {}): EventFollower {
    const backoff = options.backoff ?? this.#options.backoff;
    return new EventFollower(this.#transport, this.stats, conversationId, {
      ...options,
      ...(backoff ? { backoff } : {}),
    });
  }

  /**
   * Opens the conversation's WebSocket sync; see {@link SyncConnection}.
   *
   * @example
   * import WebSocket from 'ws';
   * const sync = client.sync(id, { WebSocket, onEvent: (event) => render(event) });
   * await sync.ready();
   */
  sync(conversationId: string, options: SyncOptions = {}): SyncConnection {
    const backoff = options.backoff ?? this.#options.backoff;
    return new SyncConnection({
      baseUrl: this.#transport.baseUrl,
      conversationId,
      tokens: this.tokens,
      stats: this.stats,
      clock: options.clock ?? this.#options.clock ?? { now: () => Date.now() },
      readTurns: (after, until) => this.turns.between(conversationId, after, until),
      options: { ...options, ...(backoff ? { backoff } : {}) },
    });
  }

  /** Revokes the client's refresh-token family on the server and forgets its tokens. */
  signOut(): Promise<void> {
    return this.tokens.signOut();
  }
}

/**
 * Creates a {@link ContinuumClient}.
 *
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.CONTINUUM_API_KEY!, subject: 'patient-42' });
 * const { items } = await client.conversations.list();
 */
export function createClient(options: ClientOptions): ContinuumClient {
  return new ContinuumClient(options);
}
