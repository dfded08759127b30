import type { TenantId } from '../core/types.ts';
import { type ConversationRecord, MAX_GET_TURNS, type Store, type TurnRecord } from '../store/port.ts';
import { type ChainVerifier, corrupt } from './chain-verifier.ts';
import type { TurnView } from './views.ts';

/** What a {@link VerifiedTurnReader} reads from and checks with. */
export interface VerifiedTurnReaderOptions {
  store: Store;
  /** The turn engine's verifier, shared so rows opened here are the ones it keeps. */
  chains: ChainVerifier;
}

/**
 * The turn engine's verified reads (ADR-003): turns of a conversation, each
 * checked against its predecessor's hash and decrypted, and a read that comes
 * back short of the conversation's turn count reported as `state_corrupt`.
 * No audit events: callers record their own.
 */
export class VerifiedTurnReader {
  readonly #store: Store;
  readonly #chains: ChainVerifier;

  constructor(options: VerifiedTurnReaderOptions) {
    this.#store = options.store;
    this.#chains = options.chains;
  }

  /**
   * Turns after `after`, each checked against its predecessor's hash (no audit event: callers record their own).
   * `keep: false` (a read of the whole history, e.g. to index it) leaves the rows out of those the chain
   * verifier keeps as opened, so it does not push out the ones served every turn.
   */
  async readTurns(
    tenantId: TenantId,
    c: ConversationRecord,
    after: number,
    limit: number,
    options: { keep?: boolean } = {},
  ): Promise<TurnView[]> {
    const keep = options.keep ?? true;
    if (after <= 0) {
      const rows = await this.#store.listTurns(tenantId, c.id, 0, limit);
      return this.#complete(c, 0, limit, this.#chains.openRange(tenantId, rows, c.genesisHash, keep));
    }
    const [anchor, ...served] = await this.#store.listTurns(tenantId, c.id, after - 1, limit + 1);
    if (!anchor || anchor.number !== after) return this.#complete(c, after, limit, []);
    return this.#complete(c, after, limit, this.#chains.openRange(tenantId, served, anchor.hash, keep));
  }

  /**
   * The turns numbered `numbers` (retrieval's hits), each checked against its predecessor's hash like
   * `readTurns`, read with their predecessors in one store call; in the order of `numbers`, once each.
   * A number past `c.turn` that has no row is left out; a missing row at or below it is `state_corrupt`.
   */
  async readTurnsAt(tenantId: TenantId, c: ConversationRecord, numbers: readonly number[]): Promise<TurnView[]> {
    const wanted = [...new Set(numbers.filter((n) => Number.isSafeInteger(n) && n > 0))];
    const needed = [...new Set(wanted.flatMap((n) => (n === 1 ? [1] : [n - 1, n])))].sort((a, b) => a - b);
    const rows = new Map<number, TurnRecord>();
    // One call unless a caller asks for more than the store takes at once (search's 50 hits still fit).
    const reads: Promise<TurnRecord[]>[] = [];
    for (let i = 0; i < needed.length; i += MAX_GET_TURNS) {
      reads.push(this.#store.getTurns(tenantId, c.id, needed.slice(i, i + MAX_GET_TURNS)));
    }
    for (const row of (await Promise.all(reads)).flat()) rows.set(row.number, row);
    return wanted.flatMap((n) => {
      const row = rows.get(n);
      const prevHash = n === 1 ? c.genesisHash : rows.get(n - 1)?.hash;
      if (row && prevHash !== undefined) return [this.#chains.open(tenantId, row, prevHash)];
      // Appended after `c` was read: left out when it is not there, as readTurns leaves it out.
      if (n > c.turn) return [];
      throw corrupt(c.id, `turn ${row ? n - 1 : n} is missing`);
    });
  }

  /** A read that comes back shorter than the conversation's turn count says is missing rows. */
  #complete(c: ConversationRecord, after: number, limit: number, turns: TurnView[]): TurnView[] {
    const expected = Math.max(0, Math.min(limit, c.turn - after));
    if (turns.length < expected) throw corrupt(c.id, `turn ${after + turns.length + 1} is missing`);
    return turns;
  }
}
