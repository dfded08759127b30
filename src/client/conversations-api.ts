import type { Transport } from './transport.ts';
import type {
  Conversation,
  ConversationPage,
  CreateConversationInput,
  CreatedConversation,
  Profile,
  ProfilePatch,
  ScoredTurn,
  WorkingContext,
} from './types.ts';

const at = (id: string) => `/v1/conversations/${encodeURIComponent(id)}`;

/**
 * Conversations and their working context: `client.conversations`.
 *
 * @example
 * const conversation = await client.conversations.create({ title: 'intake', clientKey: 'visit-0001', startedAt: '2026-11-25T09:00:00Z' });
 * const context = await client.conversations.context(conversation.id);
 * console.log(context.summary, context.profile.medications);
 */
export class ConversationsApi {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  /**
   * Creates a conversation. With `clientKey` and `startedAt`, creating again
   * returns the same conversation with `created: false` (ADR-002), so a
   * retried create is harmless.
   */
  async create(
    input: CreateConversationInput = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<CreatedConversation> {
    const { value, response } = await this.#t.json<Conversation>({
      method: 'POST',
      path: '/v1/conversations',
      body: input,
      ...options,
      // Only a keyed create lands on the same conversation when sent twice.
      retryable: input.clientKey !== undefined && input.startedAt !== undefined,
    });
    return { ...value, created: response.status === 201 };
  }

  /** A conversation; `404 not_found` for another tenant's or another subject's. */
  async get(id: string, options: { signal?: AbortSignal } = {}): Promise<Conversation> {
    return (await this.#t.json<Conversation>({ method: 'GET', path: at(id), ...options, retryable: true })).value;
  }

  /** One page of conversations, newest first (`limit` 1–100, default 20). */
  async list(options: { limit?: number; cursor?: string; signal?: AbortSignal } = {}): Promise<ConversationPage> {
    const { limit, cursor, signal } = options;
    return (
      await this.#t.json<ConversationPage>({
        method: 'GET',
        path: '/v1/conversations',
        query: { limit, cursor },
        ...(signal ? { signal } : {}),
        retryable: true,
      })
    ).value;
  }

  /** Every conversation, newest first, page after page. */
  async *listAll(options: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<Conversation> {
    let cursor: string | undefined;
    do {
      const page = await this.list({
        limit: options.pageSize ?? 100,
        ...(cursor ? { cursor } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** Closes a conversation: it becomes read-only. */
  async close(id: string, options: { signal?: AbortSignal } = {}): Promise<Conversation> {
    return (await this.#t.json<Conversation>({ method: 'POST', path: `${at(id)}/close`, ...options })).value;
  }

  /**
   * What the model sees for the next turn: profile, rolling summary, recent
   * and retrieved turns, token count. With `q`, as it would be built for a
   * next message with that text.
   */
  async context(id: string, options: { q?: string; signal?: AbortSignal } = {}): Promise<WorkingContext> {
    const { q, signal } = options;
    return (
      await this.#t.json<WorkingContext>({
        method: 'GET',
        path: `${at(id)}/context`,
        query: { q },
        ...(signal ? { signal } : {}),
        retryable: true,
      })
    ).value;
  }

  /** Turns of the whole history matching `q`, best first (`limit` 1–50, default 10). */
  async search(id: string, q: string, options: { limit?: number; signal?: AbortSignal } = {}): Promise<ScoredTurn[]> {
    const { limit, signal } = options;
    const { value } = await this.#t.json<{ items: ScoredTurn[] }>({
      method: 'GET',
      path: `${at(id)}/search`,
      query: { q, limit },
      ...(signal ? { signal } : {}),
      retryable: true,
    });
    return value.items;
  }

  /**
   * Confirms, corrects or retracts a profile fact (needs an `admin`-scope
   * client: a clinician); resolves with the updated profile.
   */
  async patchProfile(id: string, patch: ProfilePatch, options: { signal?: AbortSignal } = {}): Promise<Profile> {
    const { value } = await this.#t.json<{ profile: Profile }>({
      method: 'PATCH',
      path: `${at(id)}/profile`,
      body: patch,
      ...options,
    });
    return value.profile;
  }
}
