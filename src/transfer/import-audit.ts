import type { KeyObject } from 'node:crypto';
import type { AuditCheckpoint } from '../audit/checkpoint.ts';
import type { AuditEvent } from '../audit/event.ts';
import { verifyChain } from '../audit/verify.ts';
import type { TenantId } from '../core/types.ts';
import { isAppError } from '../errors/index.ts';
import type { Store } from '../store/port.ts';
import { lineError } from './parse.ts';
import type { RecordReader } from './reader.ts';

const BATCH = 500;

/** What {@link importAuditChain} needs. */
export interface ChainImport {
  store: Store;
  reader: RecordReader;
  /** The source's public signing keys, by kid (from the `public_key` records). */
  publicKeys: ReadonlyMap<string, KeyObject>;
  tenantId: TenantId;
  /** `verify`: check the chain but write nothing (the target already has its own chain for this id). */
  mode: 'write' | 'verify';
}

/**
 * Reads one chain's `audit_checkpoint` and `audit_event` records, verifies
 * them with `verifyChain` (from genesis, every hash, link and checkpoint
 * signature) and writes the events in batches with `importAuditEvents`. A
 * batch is written only once every event in it has been verified, so a bad
 * event is never stored; earlier batches of the same chain may be. Returns
 * the number of events read.
 */
export async function importAuditChain(options: ChainImport): Promise<number> {
  const { store, reader, publicKeys, tenantId, mode } = options;
  const checkpoints: AuditCheckpoint[] = [];
  const checkpointLines = new Map<number, number>();
  for (let read = await reader.nextIf('audit_checkpoint'); read; read = await reader.nextIf('audit_checkpoint')) {
    const { checkpoint } = read.record;
    if (checkpoint.tenantId !== tenantId) {
      throw lineError(read.line, `a checkpoint of ${checkpoint.tenantId} among the records of ${tenantId}`);
    }
    checkpoints.push(checkpoint);
    checkpointLines.set(checkpoint.seq, read.line);
  }

  const pending: AuditEvent[] = [];
  const lines = new Map<number, number>();
  let count = 0;
  const flush = async (): Promise<void> => {
    const first = pending[0];
    if (first === undefined) return;
    if (mode === 'write') {
      try {
        await store.importAuditEvents(tenantId, pending);
      } catch (error) {
        if (!isAppError(error)) throw error;
        const last = pending.at(-1)!;
        throw lineError(
          lines.get(first.seq) ?? reader.line,
          `the target refused audit events ${first.seq}-${last.seq} of ${tenantId} ` +
            `(${error.message}); a chain can only be imported into a store that has no events for it`,
          error.code,
          error,
        );
      }
    }
    pending.length = 0;
    lines.clear();
  };

  async function* events(): AsyncGenerator<AuditEvent> {
    for (let read = await reader.nextIf('audit_event'); read; read = await reader.nextIf('audit_event')) {
      const { event } = read.record;
      if (event.tenantId !== tenantId) {
        throw lineError(read.line, `an audit event of ${event.tenantId} among the records of ${tenantId}`);
      }
      // verifyChain asks for an event only once it has checked every one before it.
      if (pending.length >= BATCH) await flush();
      pending.push(event);
      lines.set(event.seq, read.line);
      count += 1;
      yield event;
    }
  }

  const result = await verifyChain(events(), checkpoints, (kid) => publicKeys.get(kid), { tenantId });
  if (!result.ok) {
    const bad = result.firstBad!;
    const aboutCheckpoint = bad.reason === 'bad_checkpoint_signature' || bad.reason === 'checkpoint_mismatch';
    const line = (aboutCheckpoint ? checkpointLines.get(bad.seq) : lines.get(bad.seq)) ?? reader.line;
    throw lineError(
      line,
      `the audit chain of ${tenantId} fails verification at seq ${bad.seq} (${bad.reason}): ${bad.detail}`,
      'state_corrupt',
    );
  }
  await flush();
  return count;
}
