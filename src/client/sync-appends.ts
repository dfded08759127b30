import { newIdempotencyKey } from './backoff.ts';
import type { ContinuumError } from './errors.ts';
import { rebaseTarget, type TurnReader } from './rebase.ts';
import type { ClientStats } from './stats.ts';
import type { SyncAck, SyncAppendInput } from './sync-types.ts';
import type { Turn } from './types.ts';

interface PendingAppend {
  /** Echoed by the server in the `ack` or `error` that answers it. */
  ref: string;
  input: SyncAppendInput;
  idempotencyKey: string;
  expectedTurn: number;
  rebases: number;
  resolve: (ack: SyncAck) => void;
  reject: (error: unknown) => void;
}

/** Errors that answer an append even when the server echoes no `ref`. */
const APPEND_ERRORS = new Set(['turn_conflict', 'conversation_closed', 'idempotency_key_reused']);

/**
 * The appends of one sync connection not yet answered: each is matched to
 * its `ack` or `error` by `ref` (the oldest one when the server echoes no
 * `ref`), sent again after a reconnect with the same idempotency key, and
 * rebased past a conflict when its input asks for it.
 */
export class SyncAppends {
  readonly #pending = new Map<string, PendingAppend>();
  readonly #send: (frame: Record<string, unknown>) => void;
  readonly #readTurns: TurnReader;
  readonly #stats: ClientStats;

  /** `send` writes a frame when the connection is subscribed and drops it otherwise. */
  constructor(send: (frame: Record<string, unknown>) => void, readTurns: TurnReader, stats: ClientStats) {
    this.#send = send;
    this.#readTurns = readTurns;
    this.#stats = stats;
  }

  /** Registers an append (sent now when `connected`); resolves with its ack. */
  add(input: SyncAppendInput, connected: boolean): Promise<SyncAck> {
    return new Promise((resolve, reject) => {
      const pending: PendingAppend = {
        ref: newIdempotencyKey(),
        input,
        idempotencyKey: input.idempotencyKey ?? newIdempotencyKey(),
        expectedTurn: input.expectedTurn,
        rebases: 0,
        resolve,
        reject,
      };
      this.#pending.set(pending.ref, pending);
      if (connected) this.#sendOne(pending);
    });
  }

  /** Sends every unanswered append (after a (re)subscribe). */
  sendAll(): void {
    for (const pending of this.#pending.values()) this.#sendOne(pending);
  }

  /** An `ack` frame: resolves its append; returns the conversation's turn after it. */
  ack(frame: Record<string, unknown>): number | undefined {
    const pending = this.#match(frame);
    if (!pending) return undefined;
    this.#pending.delete(pending.ref);
    const turn = frame['turn'] as Turn;
    const currentTurn = typeof frame['currentTurn'] === 'number' ? frame['currentTurn'] : turn.number;
    pending.resolve({
      turn,
      currentTurn,
      replayed: frame['replayed'] === true,
      idempotencyKey: pending.idempotencyKey,
      rebases: pending.rebases,
    });
    return currentTurn;
  }

  /**
   * An `error` frame: rejects (or rebases) the append it answers. Returns
   * false when it answers none of them.
   */
  error(
    frame: Record<string, unknown>,
    error: ContinuumError,
    link: () => 'subscribed' | 'waiting' | 'closed',
  ): boolean {
    const pending = typeof frame['ref'] === 'string' || APPEND_ERRORS.has(error.code) ? this.#match(frame) : undefined;
    if (!pending) return false;
    this.#pending.delete(pending.ref);
    rebaseTarget(error, pending.input, pending.expectedTurn, pending.rebases, this.#readTurns).then(
      (next) => {
        const state = link();
        if (next === undefined || state === 'closed') {
          pending.reject(error);
          return;
        }
        this.#stats.rebases += 1;
        const again = {
          ...pending,
          ref: newIdempotencyKey(),
          expectedTurn: next.expectedTurn,
          rebases: pending.rebases + 1,
        };
        this.#pending.set(again.ref, again);
        if (state === 'subscribed') this.#sendOne(again);
      },
      (readError: unknown) => pending.reject(readError),
    );
    return true;
  }

  /** Rejects every unanswered append. */
  rejectAll(error: unknown): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  /** The append a frame answers: by its `ref`, else the oldest one. */
  #match(frame: Record<string, unknown>): PendingAppend | undefined {
    const ref = frame['ref'];
    if (typeof ref === 'string') return this.#pending.get(ref);
    return this.#pending.values().next().value;
  }

  #sendOne(pending: PendingAppend): void {
    const { input } = pending;
    this.#send({
      type: 'append',
      ref: pending.ref,
      role: input.role,
      content: input.content,
      expectedTurn: pending.expectedTurn,
      ...(input.respond ? { respond: true } : {}),
      ...(input.priority ? { priority: input.priority } : {}),
      idempotencyKey: pending.idempotencyKey,
    });
  }
}
