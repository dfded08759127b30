import { eventHash } from './chain.ts';
import { type AuditCheckpoint, type PublicKeyLookup, verifyCheckpointSignature } from './checkpoint.ts';
import { type AuditEvent, GENESIS_HASH } from './event.ts';

/** Why verification stopped. */
export type VerifyFailureReason =
  | 'hash_mismatch'
  | 'broken_link'
  | 'sequence_gap'
  | 'reordered'
  | 'truncated'
  | 'bad_checkpoint_signature'
  | 'checkpoint_mismatch';

/** The first bad place in a chain. */
export interface VerifyFailure {
  /** The seq of the bad event or checkpoint; for `sequence_gap` and `truncated`, the first missing seq. */
  seq: number;
  reason: VerifyFailureReason;
  /** For operators; names seqs, hashes and kids, never event content. */
  detail: string;
}

/** What `GET /v1/audit/verify` returns. */
export interface VerifyResult {
  ok: boolean;
  /** Events that passed every check before verification stopped (all of them when `ok`). */
  checked: number;
  firstBad?: VerifyFailure;
}

/** Optional checks beyond the chain itself. */
export interface VerifyChainOptions {
  /** The tenant the chain must belong to; by default, the first event's tenant. */
  tenantId?: string;
}

/**
 * Walks a tenant's chain in the order given (the store returns it by seq,
 * from seq 1) and names the first bad place: an edited event
 * (`hash_mismatch`), a deleted one (`sequence_gap`), rows out of order
 * (`reordered`), an event that does not link to its predecessor
 * (`broken_link`), a checkpoint with a bad signature or one that disagrees
 * with the event at its seq, and a chain that ends before the latest valid
 * checkpoint (`truncated`). Streams: holds one event and the checkpoints,
 * never the whole chain, and stops reading at the first bad place.
 *
 * @example
 * const result = await verifyChain(store.auditEvents(tenantId), await store.auditCheckpoints(tenantId), keys.publicKey);
 * if (!result.ok) log.error(result.firstBad, 'audit chain broken');
 */
export async function verifyChain(
  events: Iterable<AuditEvent> | AsyncIterable<AuditEvent>,
  checkpoints: readonly AuditCheckpoint[],
  publicKeys: PublicKeyLookup,
  options: VerifyChainOptions = {},
): Promise<VerifyResult> {
  if (!isIterable(events)) throw new TypeError('verifyChain: events must be an Iterable or AsyncIterable');
  if (!Array.isArray(checkpoints)) throw new TypeError('verifyChain: checkpoints must be an array');
  if (typeof publicKeys !== 'function') throw new TypeError('verifyChain: publicKeys must be a function');

  let checked = 0;
  const fail = (seq: number, reason: VerifyFailureReason, detail: string): VerifyResult => ({
    ok: false,
    checked,
    firstBad: { seq, reason, detail },
  });

  const malformed = checkpoints.find((cp) => typeof cp !== 'object' || cp === null || !isSeq(cp.seq));
  if (malformed !== undefined) {
    return fail(0, 'checkpoint_mismatch', 'a checkpoint has no valid seq');
  }
  const pending = [...checkpoints].sort((a, b) => a.seq - b.seq);
  let next = 0;
  let tenantId = options.tenantId;
  let prev: AuditEvent | null = null;
  // An event ahead of its place: the row after it tells a swap from a deletion.
  let ahead: { expected: number; seq: number } | null = null;

  const badSignature = (cp: AuditCheckpoint): VerifyResult =>
    fail(cp.seq, 'bad_checkpoint_signature', `checkpoint at seq ${cp.seq} (kid ${String(cp.kid)}) fails its signature`);
  const checkCheckpoint = (cp: AuditCheckpoint, event: AuditEvent): VerifyResult | null => {
    if (!verifyCheckpointSignature(cp, publicKeys)) {
      return badSignature(cp);
    }
    if (cp.tenantId !== event.tenantId) {
      return fail(cp.seq, 'checkpoint_mismatch', `checkpoint at seq ${cp.seq} is for tenant ${cp.tenantId}`);
    }
    if (cp.hash !== event.hash) {
      return fail(
        cp.seq,
        'checkpoint_mismatch',
        `checkpoint signed ${cp.at} records hash ${short(cp.hash)} at seq ${cp.seq}; the event there hashes to ${short(event.hash)}`,
      );
    }
    return null;
  };

  for await (const event of events) {
    const expected = prev === null ? 1 : prev.seq + 1;
    const seq: unknown = typeof event === 'object' && event !== null ? event.seq : undefined;
    if (ahead !== null) {
      if (seq === ahead.expected) {
        return fail(ahead.expected, 'reordered', `event ${ahead.expected} comes after event ${ahead.seq}`);
      }
      return fail(ahead.expected, 'sequence_gap', missing(ahead.expected, ahead.seq));
    }
    if (!isSeq(seq)) return fail(expected, 'sequence_gap', `the row after seq ${expected - 1} has no valid seq`);
    if (seq > expected) {
      ahead = { expected, seq };
      continue;
    }
    if (seq < expected) {
      return fail(seq, 'reordered', `event ${seq} appears again after event ${expected - 1}`);
    }

    tenantId ??= event.tenantId;
    if (event.tenantId !== tenantId) {
      return fail(seq, 'broken_link', `event ${seq} belongs to tenant ${String(event.tenantId)}, not ${tenantId}`);
    }
    let hash: string;
    try {
      hash = eventHash(event);
    } catch {
      return fail(seq, 'hash_mismatch', `event ${seq} has a field with no JSON form`);
    }
    if (hash !== event.hash) {
      return fail(seq, 'hash_mismatch', `event ${seq} hashes to ${short(hash)}, not its stored ${short(event.hash)}`);
    }
    const link = prev === null ? GENESIS_HASH : prev.hash;
    if (event.prevHash !== link) {
      const what = prev === null ? 'the genesis hash' : `the hash of event ${prev.seq}`;
      return fail(seq, 'broken_link', `event ${seq} links to ${short(event.prevHash)}, not ${what} (${short(link)})`);
    }
    for (let cp = pending[next]; cp !== undefined && cp.seq <= seq; cp = pending[++next]) {
      const bad = checkCheckpoint(cp, event);
      if (bad !== null) return bad;
    }
    prev = event;
    checked += 1;
  }

  if (ahead !== null) return fail(ahead.expected, 'sequence_gap', missing(ahead.expected, ahead.seq));

  // Checkpoints past the end: one genuine one proves the tail was cut.
  const lastSeq = prev === null ? 0 : prev.seq;
  let forged: VerifyResult | null = null;
  for (const cp of pending.slice(next)) {
    if (!verifyCheckpointSignature(cp, publicKeys)) {
      forged ??= badSignature(cp);
    } else if (tenantId !== undefined && cp.tenantId !== tenantId) {
      forged ??= fail(cp.seq, 'checkpoint_mismatch', `checkpoint at seq ${cp.seq} is for tenant ${cp.tenantId}`);
    } else {
      return fail(
        lastSeq + 1,
        'truncated',
        `the chain ends at seq ${lastSeq} but a checkpoint signed ${cp.at} records seq ${cp.seq}`,
      );
    }
  }
  return forged ?? { ok: true, checked };
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  return Symbol.asyncIterator in value || Symbol.iterator in value;
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function missing(expected: number, found: number): string {
  const last = expected - 1;
  return last === 0
    ? `the chain starts at event ${found}; event 1 is missing`
    : `event ${last} is followed by event ${found}; event ${expected} is missing`;
}

function short(hash: unknown): string {
  return typeof hash === 'string' ? `${hash.slice(0, 12)}…` : String(hash);
}
