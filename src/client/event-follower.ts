import { resumableEvents, type StreamOptions } from './event-stream.ts';
import type { ClientStats } from './stats.ts';
import type { Transport } from './transport.ts';
import type { ConversationEvent } from './types.ts';

/** Options of {@link EventFollower}. */
export interface FollowOptions extends StreamOptions {
  /** Start after this event id (an id from an earlier stream); default: from the oldest event kept. */
  after?: string;
}

/**
 * Every event of a conversation as it happens (`GET …/events`, SSE), from
 * every writer. It runs until `signal` aborts or the loop breaks,
 * reconnecting after drops with `Last-Event-ID` (refreshing the token when
 * it is due), so no event is missed or doubled.
 *
 * @example
 * const controller = new AbortController();
 * for await (const event of client.events(id, { signal: controller.signal })) {
 *   if (event.event === 'turn') console.log(`turn ${event.data.number}: ${event.data.content}`);
 * }
 */
export class EventFollower implements AsyncIterable<ConversationEvent> {
  readonly #transport: Transport;
  readonly #stats: ClientStats;
  readonly #conversationId: string;
  readonly #options: FollowOptions;
  #lastEventId: string | undefined;
  #iterator: AsyncGenerator<ConversationEvent, void, undefined> | undefined;

  constructor(transport: Transport, stats: ClientStats, conversationId: string, options: FollowOptions = {}) {
    this.#transport = transport;
    this.#stats = stats;
    this.#conversationId = conversationId;
    this.#options = options;
    this.#lastEventId = options.after;
  }

  /** The id of the last event delivered (pass it as `after` to continue later). */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  [Symbol.asyncIterator](): AsyncGenerator<ConversationEvent, void, undefined> {
    if (this.#iterator) throw new TypeError('An EventFollower can be iterated once; make another with after');
    this.#iterator = resumableEvents({
      ...this.#options,
      stats: this.#stats,
      connect: (last, signal) =>
        this.#transport.send({
          method: 'GET',
          path: `/v1/conversations/${encodeURIComponent(this.#conversationId)}/events`,
          accept: 'text/event-stream',
          headers: last === undefined ? {} : { 'last-event-id': last },
          signal,
        }),
      filter: (event) => {
        this.#lastEventId = event.id || this.#lastEventId;
        return 'yield';
      },
    });
    return this.#iterator;
  }
}
