/**
 * Event ids: `<turn>.<seq>`, the conversation's turn number zero-padded to 12
 * digits and a sequence number within that turn padded to 6, e.g.
 * `000000000042.000017`. Fixed width makes plain string order (JavaScript `<`,
 * SQLite `ORDER BY` with the default BINARY collation, PostgreSQL `COLLATE "C"`)
 * equal numeric order, so a store can index and compare ids as text.
 *
 * Clients treat ids as opaque; only this module looks inside.
 */
export type EventId = string;

const TURN_DIGITS = 12;
const SEQ_DIGITS = 6;
/** Largest turn number an id can carry. */
export const MAX_EVENT_TURN = 10 ** TURN_DIGITS - 1;
/** Largest sequence number within one turn. */
export const MAX_EVENT_SEQ = 10 ** SEQ_DIGITS - 1;
const EVENT_ID = /^\d{12}\.\d{6}$/;

/** The parts of an event id. */
export interface EventIdParts {
  turn: number;
  seq: number;
}

/**
 * Builds the id of the `seq`-th event of `turn`.
 *
 * @throws TypeError when either part is not an integer in range.
 * @example
 * formatEventId(42, 17); // '000000000042.000017'
 */
export function formatEventId(turn: number, seq: number): EventId {
  if (!Number.isSafeInteger(turn) || turn < 0 || turn > MAX_EVENT_TURN) {
    throw new TypeError(`event id turn must be an integer in 0..${MAX_EVENT_TURN}, got ${turn}`);
  }
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_EVENT_SEQ) {
    throw new TypeError(`event id seq must be an integer in 0..${MAX_EVENT_SEQ}, got ${seq}`);
  }
  return `${String(turn).padStart(TURN_DIGITS, '0')}.${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

/** True when `value` is a well-formed event id. */
export function isEventId(value: unknown): boolean {
  return typeof value === 'string' && EVENT_ID.test(value);
}

/** Splits an id into its turn and sequence number, or returns `null` when it is not an event id. */
export function parseEventId(value: string): EventIdParts | null {
  if (!isEventId(value)) return null;
  return { turn: Number(value.slice(0, TURN_DIGITS)), seq: Number(value.slice(TURN_DIGITS + 1)) };
}

/**
 * Orders two event ids: negative when `a` came first, positive when `b` did,
 * 0 when equal. `null` (nothing seen yet) sorts before every id.
 */
export function compareEventIds(a: EventId | null, b: EventId | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
