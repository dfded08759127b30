import { type ContinuumError, errorFromProblem } from './errors.ts';
import { resumableEvents, type StreamOptions } from './event-stream.ts';
import { type AppendInput, rebaseTarget, type TurnReader } from './rebase.ts';
import type { ClientStats } from './stats.ts';
import type { Transport } from './transport.ts';
import type { ConversationEvent, ProblemData, Turn } from './types.ts';

/** Options of a streamed reply. */
export interface ReplyStreamOptions extends StreamOptions {
  /** Told the reply's place while it waits in the tenant's stream queue. */
  onQueued?: (position: number) => void;
}

/** The whole of a finished reply. */
export interface ReplyResult {
  /** The stored user turn. */
  turn: Turn;
  /** The stored reply turn. */
  reply: Turn;
  /** The reply's text as streamed (equal to `reply.content`). */
  text: string;
}

interface ReplyStreamInit {
  transport: Transport;
  stats: ClientStats;
  conversationId: string;
  input: AppendInput;
  idempotencyKey: string;
  readTurns: TurnReader;
  options: ReplyStreamOptions;
}

/**
 * A reply streamed as it is generated: `turn` (the stored user turn), many
 * `delta`, then `done` (the stored reply) or `error`; iterate it once with
 * `for await`. A dropped connection is resumed on `GET …/events` with
 * `Last-Event-ID` — on any node, with a refreshed token if need be — so the
 * iteration yields exactly the events an undisturbed connection would have,
 * each once. If the cut came before the first event, the append is sent
 * again with the same `Idempotency-Key` (it is never written twice).
 *
 * @example
 * const reply = client.turns.append(id, { role: 'user', content: 'Any interactions?', expectedTurn: 4, respond: true, stream: true });
 * for await (const event of reply) {
 *   if (event.event === 'delta') process.stdout.write(event.data.text);
 * }
 * console.log(reply.reply?.number, reply.reconnects);
 */
export class ReplyStream implements AsyncIterable<ConversationEvent> {
  /** The `Idempotency-Key` of the append. */
  readonly idempotencyKey: string;
  /** The stored user turn, once its event arrived. */
  turn: Turn | undefined;
  /** The stored reply, once `done` arrived. */
  reply: Turn | undefined;
  /** The `error` event's problem as an error, if the reply failed. */
  error: ContinuumError | undefined;
  /** The text streamed so far. */
  text = '';
  /** Rebases after `409 turn_conflict` (`onConflict: 'rebase'`). */
  rebases = 0;
  /** The turns written by others that the rebases went past, oldest first. */
  readonly missed: Turn[] = [];
  /** Connections reopened to resume the stream. */
  reconnects = 0;
  readonly #init: ReplyStreamInit;
  #iterator: AsyncGenerator<ConversationEvent, void, undefined> | undefined;
  /** `find`: replaying the conversation's events to reach this append's turn (its first answer was lost). */
  #phase: 'post' | 'find' | 'stream' = 'post';
  #expectedTurn: number;
  #connects = 0;

  constructor(init: ReplyStreamInit) {
    this.#init = init;
    this.idempotencyKey = init.idempotencyKey;
    this.#expectedTurn = init.input.expectedTurn;
  }

  [Symbol.asyncIterator](): AsyncGenerator<ConversationEvent, void, undefined> {
    if (this.#iterator) throw new TypeError('A ReplyStream can be iterated once');
    const { options, stats } = this.#init;
    const onQueued = options.onQueued;
    this.#iterator = resumableEvents({
      ...options,
      maxReconnects: options.maxReconnects ?? 10,
      stats,
      connect: (last, signal) => this.#connect(last, signal),
      filter: (event) => this.#filter(event),
      ...(onQueued
        ? {
            onComment: (text: string) => {
              const match = /^queued: position (\d+)/.exec(text);
              if (match) onQueued(Number(match[1]));
            },
          }
        : {}),
    });
    return this.#iterator;
  }

  /**
   * Reads the stream to its end (unless already iterated) and resolves with the stored turns.
   *
   * @throws ContinuumError the reply's error (`model_failed`, `streams_busy`, …) when it failed.
   */
  async result(): Promise<ReplyResult> {
    if (!this.#iterator) for await (const _ of this) void _;
    if (this.error) throw this.error;
    if (!this.turn || !this.reply) throw new TypeError('The reply stream was left before it ended');
    return { turn: this.turn, reply: this.reply, text: this.text };
  }

  async #connect(last: string | undefined, signal: AbortSignal): Promise<Response | null> {
    const { transport, conversationId } = this.#init;
    const path = `/v1/conversations/${encodeURIComponent(conversationId)}`;
    if (this.#connects++ > 0) this.reconnects += 1;
    if (this.#phase !== 'post') {
      return transport.send({
        method: 'GET',
        path: `${path}/events`,
        accept: 'text/event-stream',
        headers: last === undefined ? {} : { 'last-event-id': last },
        signal,
      });
    }
    for (;;) {
      try {
        const response = await this.#post(path, signal);
        if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) return response;
        // An earlier attempt was written after all: this answer is its replay. Find its events in the log.
        const replayed = (await response.json()) as { turn: Turn };
        this.turn = replayed.turn;
        this.#phase = 'find';
        return transport.send({ method: 'GET', path: `${path}/events`, accept: 'text/event-stream', signal });
      } catch (error) {
        const next = await rebaseTarget(
          error,
          this.#init.input,
          this.#expectedTurn,
          this.rebases,
          this.#init.readTurns,
        );
        if (next === undefined) throw error;
        this.missed.push(...next.missed);
        this.#expectedTurn = next.expectedTurn;
        this.rebases += 1;
        this.#init.stats.rebases += 1;
      }
    }
  }

  #post(path: string, signal: AbortSignal): Promise<Response> {
    const { input } = this.#init;
    return this.#init.transport.send({
      method: 'POST',
      path: `${path}/turns`,
      accept: 'text/event-stream',
      headers: { 'idempotency-key': this.idempotencyKey },
      body: {
        role: input.role,
        content: input.content,
        expectedTurn: this.#expectedTurn,
        respond: true,
        ...(input.priority ? { priority: input.priority } : {}),
      },
      signal,
      retryable: true,
    });
  }

  #filter(event: ConversationEvent): 'yield' | 'skip' | 'last' {
    switch (this.#phase) {
      case 'find':
        if (event.event !== 'turn' || event.data.number !== this.turn?.number) return 'skip';
        this.#phase = 'stream';
        return 'yield';
      case 'post':
        this.#phase = 'stream';
        if (event.event === 'turn') this.turn = event.data;
        return 'yield';
      case 'stream':
        break;
    }
    switch (event.event) {
      // Stored turns (the reply's own among them) are for followers; the reply ends with `done`.
      case 'turn':
        return 'skip';
      case 'delta':
        this.text += event.data.text;
        return 'yield';
      case 'done':
        this.reply = event.data;
        return 'last';
      case 'error':
        this.error = errorFromProblem(event.data as ProblemData, (event.data as ProblemData).status ?? 502);
        return 'last';
      default:
        return 'yield';
    }
  }
}
