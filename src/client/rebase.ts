import { isContinuumError } from './errors.ts';
import type { Priority, Role, Turn } from './types.ts';

/** What a rebase callback is told. */
export interface RebaseInfo {
  /** The turns written since the append's `expectedTurn` (all of them, read past the 100 a conflict carries). */
  missed: Turn[];
  /** The turn the append will now follow. */
  currentTurn: number;
  /** 1 for the first rebase of this append. */
  attempt: number;
}

/** An append of one turn. */
export interface AppendInput {
  role: Role;
  content: string;
  /** The turn this one follows (the conversation's `turn` as last seen). */
  expectedTurn: number;
  /** Ask the model to answer; its reply is the next turn. */
  respond?: boolean;
  /** The reply's place in the tenant's stream queue. */
  priority?: Priority;
  /**
   * Sent as `Idempotency-Key`; default a new random key per call. The same
   * key goes with every retry of the call (after a `401`, a network failure,
   * a resume or a rebase), so the turn is written once.
   */
  idempotencyKey?: string;
  /**
   * On `409 turn_conflict`: `throw` (default) raises the {@link ContinuumError},
   * whose `missed` and `currentTurn` say what happened; `rebase` reads the
   * missed turns, tells `onRebase`, and appends again after the new current
   * turn, at most `maxRebases` times.
   */
  onConflict?: 'throw' | 'rebase';
  /** Rebases before the conflict is raised after all (default 3). */
  maxRebases?: number;
  /**
   * Called before each rebase with the turns the append missed. Return
   * `false` to raise the conflict instead (the message no longer makes sense).
   */
  onRebase?: (info: RebaseInfo) => boolean | undefined | Promise<boolean | undefined>;
  signal?: AbortSignal;
}

/** Reads turns after a given one, every page. */
export type TurnReader = (after: number, until: number) => Promise<Turn[]>;

/** Where a rebased append goes next. */
export interface RebaseTarget {
  /** The `expectedTurn` to send next. */
  expectedTurn: number;
  /** The turns the failed attempt missed. */
  missed: Turn[];
}

/**
 * Decides what follows a failed append: where to try next when `error` is a
 * `turn_conflict` that `input` allows to rebase, else `undefined` (raise the
 * error).
 */
export async function rebaseTarget(
  error: unknown,
  input: AppendInput,
  expectedTurn: number,
  rebases: number,
  readTurns: TurnReader,
): Promise<RebaseTarget | undefined> {
  if (input.onConflict !== 'rebase' || !isContinuumError(error, 'turn_conflict')) return undefined;
  if (rebases >= (input.maxRebases ?? 3) || error.currentTurn === undefined) return undefined;
  const currentTurn = error.currentTurn;
  let missed = error.missed ?? [];
  if (error.missedTruncated || missed.length < currentTurn - expectedTurn) {
    missed = await readTurns(expectedTurn, currentTurn);
  }
  const verdict = await input.onRebase?.({ missed, currentTurn, attempt: rebases + 1 });
  return verdict === false ? undefined : { expectedTurn: currentTurn, missed };
}
