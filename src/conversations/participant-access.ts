import type { Clock } from '../core/clock.ts';
import type { ConversationId, TenantId } from '../core/types.ts';
import type { Store } from '../store/port.ts';

export interface ParticipantAccessOptions {
  store: Pick<Store, 'isParticipant'>;
  clock: Clock;
  /** How long a "yes" is trusted before the store is asked again. Default 5 000 ms. */
  ttlMs?: number;
  /** Most answers kept (LRU). Default 10 000. */
  maxEntries?: number;
}

const keyOf = (tenantId: string, conversationId: string, subject: string) =>
  `${tenantId}\u0000${conversationId}\u0000${subject}`;

/**
 * Answers "is this subject a participant of this conversation?" for the
 * access checks of every request. A "yes" is cached for `ttlMs`, so a
 * participant's requests cost one store lookup per period, not one each;
 * a "no" is never cached, so an invitation takes effect at once. A removal
 * takes effect at once on the node that made it ({@link forget}) and within
 * `ttlMs` on the others.
 */
export class ParticipantAccess {
  readonly #store: Pick<Store, 'isParticipant'>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #granted = new Map<string, number>();

  constructor(options: ParticipantAccessOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    if (!(this.#ttlMs >= 0)) throw new TypeError('ParticipantAccess: ttlMs must be >= 0');
    if (!Number.isSafeInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new TypeError('ParticipantAccess: maxEntries must be a positive integer');
    }
  }

  async allows(tenantId: TenantId, conversationId: ConversationId, subject: string): Promise<boolean> {
    const key = keyOf(tenantId, conversationId, subject);
    const until = this.#granted.get(key);
    const now = this.#clock.now();
    if (until !== undefined && now < until) return true;
    this.#granted.delete(key);
    const allowed = await this.#store.isParticipant(tenantId, conversationId, subject);
    if (allowed) {
      this.#granted.set(key, now + this.#ttlMs);
      if (this.#granted.size > this.#maxEntries) this.#granted.delete(this.#granted.keys().next().value as string);
    }
    return allowed;
  }

  /** Drop a cached "yes" (the subject was just removed on this node). */
  forget(tenantId: TenantId, conversationId: ConversationId, subject: string): void {
    this.#granted.delete(keyOf(tenantId, conversationId, subject));
  }
}
