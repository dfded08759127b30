/**
 * Retrieval of older turns: a per-conversation search index kept on this node (least recently used first out),
 * caught up from the record on use and grown turn by turn as the context service takes new turns in.
 */

import type { TurnView } from '../conversations/views.ts';
import type { ConversationId } from '../core/types.ts';
import type { ConversationRecord } from '../store/port.ts';
import type { TurnsAtReader } from './context-service-types.ts';
import { type PromptTurn, retrievedTurnTokens } from './prompt-builder.ts';
import { ConversationIndex } from './search-index.ts';

/** What {@link Retrieval} reads with, and how many conversations' indexes it keeps. */
export interface RetrievalOptions {
  /** Turns by number, in the order asked, in one store call. */
  readTurnsAt: TurnsAtReader;
  /** Turns `after+1 … through` of the record, verified; `keep: false` when the verifier need not keep them opened. */
  readTurnsAfter: (
    c: ConversationRecord,
    after: number,
    through: number,
    options: { keep: boolean },
  ) => Promise<TurnView[]>;
  /** Conversations whose search index this node keeps in memory (default 1000). */
  cacheSize?: number;
}

/** A retrieved turn and its search score. */
export type ScoredTurn = TurnView & { score: number };

/**
 * The older turns of a conversation that best match a query, from a lexical index over its whole history.
 *
 * @example
 * const retrieval = new Retrieval({ readTurnsAt, readTurnsAfter, cacheSize: 1000 });
 * await retrieval.retrieve(c, 'penicillin allergy', 5, c.turn + 1); // → [{ number: 1, score: …, … }]
 */
export class Retrieval {
  readonly #o: RetrievalOptions;
  readonly #indexes = new Map<ConversationId, ConversationIndex>();

  constructor(options: RetrievalOptions) {
    this.#o = options;
  }

  /** Take a new turn into the conversation's index when that index is exactly one turn behind (else it catches up on use). */
  add(id: ConversationId, turn: TurnView): void {
    const index = this.#indexes.get(id);
    if (index?.lastTurn === turn.number - 1) index.add({ number: turn.number, role: turn.role, text: turn.content });
  }

  /** The best `limit` older turns for `q`, in rank order; with a token budget, those that fit it (in rank order). */
  async retrieve(
    c: ConversationRecord,
    q: string,
    limit: number,
    excludeFrom: number,
    budgetTokens = Infinity,
  ): Promise<ScoredTurn[]> {
    const index = await this.#ensureIndex(c);
    const hits = index.search(q, { limit, excludeFrom });
    if (hits.length === 0) return [];
    // Every hit and its predecessor in one store read, not a round trip per hit.
    const turns = await this.#o.readTurnsAt(
      c.tenantId,
      c,
      hits.map((hit) => hit.number),
    );
    const byNumber = new Map(turns.map((turn) => [turn.number, turn]));
    const out: ScoredTurn[] = [];
    let used = 0;
    for (const hit of hits) {
      const turn = byNumber.get(hit.number);
      if (!turn) continue;
      const cost = retrievedTurnTokens(toPromptTurn(turn));
      if (used + cost > budgetTokens) continue; // a smaller, lower-ranked turn may still fit
      used += cost;
      out.push({ ...turn, score: hit.score });
    }
    return out;
  }

  /** This node's index of the conversation, caught up to `c.turn` (built from the record on first use). */
  async #ensureIndex(c: ConversationRecord): Promise<ConversationIndex> {
    let index = this.#indexes.get(c.id);
    if (!index) {
      index = new ConversationIndex();
      remember(this.#indexes, c.id, index, this.#o.cacheSize);
    }
    if (index.lastTurn < c.turn) {
      // Indexing reads the history, it does not serve it: the verifier need not keep these rows as opened.
      for (const turn of await this.#o.readTurnsAfter(c, index.lastTurn, c.turn, { keep: false })) {
        index.add({ number: turn.number, role: turn.role, text: turn.content });
      }
    }
    return index;
  }
}

/**
 * Put `value` in `map` as its most recently used entry; when the map holds `cacheSize` entries (default 1000),
 * the least recently used one goes first (a `Map` iterates in insertion order).
 */
export function remember<V>(map: Map<ConversationId, V>, id: ConversationId, value: V, cacheSize = 1000): void {
  map.delete(id);
  if (map.size >= cacheSize) map.delete(map.keys().next().value as ConversationId);
  map.set(id, value);
}

/** A turn as the prompt builder takes it. */
export function toPromptTurn(turn: TurnView): PromptTurn {
  return { number: turn.number, role: turn.role, content: turn.content };
}
