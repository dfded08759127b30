import { newIdempotencyKey } from './backoff.ts';
import { type AppendInput, rebaseTarget } from './rebase.ts';
import { ReplyStream, type ReplyStreamOptions } from './reply-stream.ts';
import type { ClientStats } from './stats.ts';
import type { Transport } from './transport.ts';
import type { Turn } from './types.ts';

/** What a (non-streamed) append resolves with. */
export interface AppendResult {
  /** The stored turn. */
  turn: Turn;
  /** The model's stored reply (with `respond: true`). */
  reply?: Turn;
  /** True when the server answered with the result of an earlier send of the same key. */
  replayed: boolean;
  /** The `Idempotency-Key` the append was sent with. */
  idempotencyKey: string;
  /** How many times the append was rebased past a conflict. */
  rebases: number;
  /** The turns written by others that the rebases went past, oldest first. */
  missed: Turn[];
}

/** An append whose reply is streamed. */
export type StreamedAppendInput = AppendInput & { respond: true; stream: true } & ReplyStreamOptions;

const turnsOf = (id: string) => `/v1/conversations/${encodeURIComponent(id)}/turns`;

/**
 * Turns of a conversation: `client.turns`.
 *
 * @example
 * const { turn } = await client.turns.append(id, { role: 'user', content: 'I take metformin.', expectedTurn: 0 });
 * for await (const t of client.turns.all(id)) console.log(t.number, t.role, t.content);
 */
export class TurnsApi {
  readonly #t: Transport;
  readonly #stats: ClientStats;

  constructor(transport: Transport, stats: ClientStats) {
    this.#t = transport;
    this.#stats = stats;
  }

  /**
   * Appends a turn after `expectedTurn`. Retries (after a `401`, a network
   * failure, a rebase) reuse the call's `Idempotency-Key`, so the turn is
   * written once. With `respond: true, stream: true` it returns a
   * {@link ReplyStream} at once (iterate it for the reply's events);
   * otherwise a promise of the stored turn (and reply).
   *
   * @throws ContinuumError `turn_conflict` (with `currentTurn` and `missed`) unless
   *   `onConflict: 'rebase'` settled it; `conversation_closed`, `not_found`, …
   * @example
   * const result = await client.turns.append(id, {
   *   role: 'user', content: 'Penicillin gives me a rash.', expectedTurn: 1, onConflict: 'rebase',
   * });
   * console.log(result.turn.number, result.missed.length);
   */
  append(conversationId: string, input: StreamedAppendInput): ReplyStream;
  append(conversationId: string, input: AppendInput & { stream?: false }): Promise<AppendResult>;
  append(
    conversationId: string,
    input: (AppendInput & { stream?: false }) | StreamedAppendInput,
  ): ReplyStream | Promise<AppendResult> {
    checkAppend(input);
    const idempotencyKey = input.idempotencyKey ?? newIdempotencyKey();
    if (input.stream === true) {
      const { idleTimeoutMs, maxReconnects, backoff, signal, onQueued } = input;
      return new ReplyStream({
        transport: this.#t,
        stats: this.#stats,
        conversationId,
        input,
        idempotencyKey,
        readTurns: (after, until) => this.between(conversationId, after, until),
        options: { idleTimeoutMs, maxReconnects, backoff, signal, onQueued } as ReplyStreamOptions,
      });
    }
    return this.#append(conversationId, input, idempotencyKey);
  }

  /** Turns after `after` (default 0), oldest first, at most `limit` (1–500, default 100). */
  async list(
    conversationId: string,
    options: { after?: number; limit?: number; signal?: AbortSignal } = {},
  ): Promise<Turn[]> {
    const { after, limit, signal } = options;
    const { value } = await this.#t.json<{ items: Turn[] }>({
      method: 'GET',
      path: turnsOf(conversationId),
      query: { after, limit },
      ...(signal ? { signal } : {}),
      retryable: true,
    });
    return value.items;
  }

  /** Every turn after `after`, oldest first, read a page (`pageSize`, default 500) at a time. */
  async *all(
    conversationId: string,
    options: { after?: number; pageSize?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<Turn> {
    const limit = options.pageSize ?? 500;
    let after = options.after ?? 0;
    for (;;) {
      const page = await this.list(conversationId, {
        after,
        limit,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      yield* page;
      const last = page.at(-1);
      if (page.length < limit || !last) return;
      after = last.number;
    }
  }

  async #append(conversationId: string, input: AppendInput, idempotencyKey: string): Promise<AppendResult> {
    let expectedTurn = input.expectedTurn;
    let rebases = 0;
    const missed: Turn[] = [];
    for (;;) {
      try {
        const { value, response } = await this.#t.json<{ turn: Turn; reply?: Turn }>({
          method: 'POST',
          path: turnsOf(conversationId),
          headers: { 'idempotency-key': idempotencyKey },
          body: {
            role: input.role,
            content: input.content,
            expectedTurn,
            ...(input.respond ? { respond: true } : {}),
            ...(input.priority ? { priority: input.priority } : {}),
          },
          ...(input.signal ? { signal: input.signal } : {}),
          retryable: true,
        });
        return {
          ...value,
          replayed: response.headers.get('idempotent-replayed') === 'true',
          idempotencyKey,
          rebases,
          missed,
        };
      } catch (error) {
        const next = await rebaseTarget(error, input, expectedTurn, rebases, (after, until) =>
          this.between(conversationId, after, until),
        );
        if (next === undefined) throw error;
        missed.push(...next.missed);
        expectedTurn = next.expectedTurn;
        rebases += 1;
        this.#stats.rebases += 1;
      }
    }
  }

  /** Turns numbered above `after` and up to `until`, oldest first (e.g. the turns a conflict missed). */
  async between(conversationId: string, after: number, until: number): Promise<Turn[]> {
    const turns: Turn[] = [];
    for await (const turn of this.all(conversationId, { after })) {
      if (turn.number > until) break;
      turns.push(turn);
    }
    return turns;
  }
}

function checkAppend(input: AppendInput & { stream?: boolean }): void {
  if (typeof input.content !== 'string' || input.content === '') throw new TypeError('append needs content');
  if (!Number.isSafeInteger(input.expectedTurn) || input.expectedTurn < 0) {
    throw new TypeError('append needs expectedTurn: the number of the turn it follows (0 for the first)');
  }
  if (input.stream === true && input.respond !== true) throw new TypeError('stream: true needs respond: true');
}
