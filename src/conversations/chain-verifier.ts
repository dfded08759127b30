import type { ConversationId, TenantId } from '../core/types.ts';
import type { TenantCipher } from '../crypto/data-keys.ts';
import { AppError } from '../errors/index.ts';
import type { ConversationRecord, Store, TurnRecord } from '../store/port.ts';
import { turnHash } from './turn-hash.ts';
import type { TurnView } from './views.ts';

/** The `state_corrupt` error of a conversation whose stored turns failed a check, saying which. */
export const corrupt = (conversationId: string, detail: string) =>
  new AppError('state_corrupt', `Conversation ${conversationId} failed its integrity check: ${detail}`, {
    extras: { conversationId },
  });

/** A stored row this node has opened and checked, with what it opened to. */
interface OpenedRow {
  row: TurnRecord;
  view: TurnView;
}

/**
 * Checks turn hash chains (ADR-003) and opens turn content. The whole chain
 * is walked the first time a node loads a conversation; after that only the
 * turns appended since, so a load costs the same at turn 10 as at 10,000.
 * Every turn served is checked on its own as well, so an edited row is never
 * shown as data.
 *
 * Opening a row is a pure function of the row (number, role, time, hash,
 * predecessor's hash, ciphertext) and the tenant's key, so its result is
 * kept for the rows served most recently: a row read again that is equal,
 * byte for byte, to one already checked opens to the same text without
 * decrypting and hashing it again. Any edit to a stored row (a flipped byte
 * of its ciphertext, another hash, time or role) makes it a different row,
 * which is checked in full.
 */
export class ChainVerifier {
  readonly #store: Store;
  readonly #cipher: TenantCipher;
  readonly #verified = new Map<ConversationId, { turn: number; headHash: string }>();
  readonly #capacity: number;
  /** Rows opened lately, by tenant, conversation and turn number (LRU). */
  readonly #opened = new Map<string, OpenedRow>();
  readonly #openedCapacity: number;

  constructor(options: { store: Store; cipher: TenantCipher; capacity?: number; openedRows?: number }) {
    this.#store = options.store;
    this.#cipher = options.cipher;
    this.#capacity = options.capacity ?? 50_000;
    this.#openedCapacity = options.openedRows ?? 5_000;
  }

  /** Prove the stored chain of `conversation` ends at its head hash, or throw `state_corrupt`. */
  async verifyHead(conversation: ConversationRecord): Promise<void> {
    const known = this.#verified.get(conversation.id);
    if (known && known.turn === conversation.turn && known.headHash === conversation.headHash) return;
    // Another node appended after this row was read; the chain up to the known head is already proven.
    if (known && known.turn > conversation.turn) return;
    const resume = known !== undefined && known.turn < conversation.turn;
    let number = resume ? known.turn : 0;
    let prevHash = resume ? known.headHash : conversation.genesisHash;
    await this.#cipher.ensureLoaded(conversation.tenantId);
    while (number < conversation.turn) {
      // Never past the row's turn: later turns may be landing from another node right now.
      const limit = Math.min(1000, conversation.turn - number);
      const batch = await this.#store.listTurns(conversation.tenantId, conversation.id, number, limit);
      if (batch.length === 0) break;
      for (const row of batch) {
        if (row.number !== number + 1) throw corrupt(conversation.id, `turn ${number + 1} is missing`);
        this.open(conversation.tenantId, row, prevHash, false);
        prevHash = row.hash;
        number = row.number;
      }
    }
    if (number !== conversation.turn) throw corrupt(conversation.id, `turn ${number + 1} is missing`);
    if (prevHash !== conversation.headHash) throw corrupt(conversation.id, 'the chain does not end at the head hash');
    this.remember(conversation.id, conversation.turn, conversation.headHash);
  }

  /** Record a head this node wrote itself. */
  remember(id: ConversationId, turn: number, headHash: string): void {
    this.#verified.delete(id);
    if (this.#verified.size >= this.#capacity)
      this.#verified.delete(this.#verified.keys().next().value as ConversationId);
    this.#verified.set(id, { turn, headHash });
  }

  /**
   * Open one stored turn, checking that it follows `prevHash` and that its
   * content still hashes to its stored hash. Needs `cipher.ensureLoaded`.
   * `keep: false` (a walk over the whole chain) leaves the row out of the
   * rows kept as opened.
   */
  open(tenantId: TenantId, row: TurnRecord, prevHash: string, keep = true): TurnView {
    if (row.prevHash !== prevHash)
      throw corrupt(row.conversationId, `turn ${row.number} does not follow its predecessor`);
    const key = `${tenantId}\u0000${row.conversationId}\u0000${row.number}`;
    const opened = this.#opened.get(key);
    if (opened !== undefined && sameRow(opened.row, row)) {
      this.#opened.delete(key);
      this.#opened.set(key, opened);
      return { ...opened.view };
    }
    const view = this.#openAndCheck(tenantId, row, prevHash);
    if (keep) {
      this.#opened.delete(key);
      if (this.#opened.size >= this.#openedCapacity) this.#opened.delete(this.#opened.keys().next().value as string);
      this.#opened.set(key, { row: { ...row, content: Uint8Array.from(row.content) }, view: { ...view } });
    }
    return view;
  }

  #openAndCheck(tenantId: TenantId, row: TurnRecord, prevHash: string): TurnView {
    let content: string;
    try {
      content = this.#cipher.openSync(
        { tenantId, conversationId: row.conversationId, field: 'turn', turn: row.number },
        Buffer.from(row.content),
      );
    } catch (error) {
      if (error instanceof AppError) throw corrupt(row.conversationId, `turn ${row.number} does not decrypt here`);
      throw error;
    }
    const expected = turnHash(prevHash, {
      conversationId: row.conversationId,
      number: row.number,
      role: row.role,
      content,
      createdAt: row.createdAt,
    });
    if (expected !== row.hash) throw corrupt(row.conversationId, `turn ${row.number} does not match its hash`);
    return { number: row.number, role: row.role, content, createdAt: row.createdAt, hash: row.hash };
  }

  /** Open consecutive rows, the first following `anchorHash`. */
  openRange(tenantId: TenantId, rows: TurnRecord[], anchorHash: string, keep = true): TurnView[] {
    let prevHash = anchorHash;
    return rows.map((row) => {
      const view = this.open(tenantId, row, prevHash, keep);
      prevHash = row.hash;
      return view;
    });
  }
}

/** Whether two stored rows are the same in everything that opening and checking a turn reads. */
function sameRow(a: TurnRecord, b: TurnRecord): boolean {
  return (
    a.hash === b.hash &&
    a.prevHash === b.prevHash &&
    a.number === b.number &&
    a.conversationId === b.conversationId &&
    a.role === b.role &&
    a.createdAt === b.createdAt &&
    Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength).equals(b.content)
  );
}
