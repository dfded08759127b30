import { createPublicKey, type KeyObject } from 'node:crypto';
import { type AuditActor, SYSTEM_TENANT } from '../audit/event.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import type { TenantId } from '../core/types.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { AppError } from '../errors/index.ts';
import type { Store } from '../store/port.ts';
import {
  COUNT_NAMES,
  EXPORT_FORMAT,
  type HeaderLine,
  SESSION_ID_SECRET,
  type SecretLine,
  type TransferCounts,
  type TransferProgress,
} from './format.ts';
import { importAuditChain } from './import-audit.ts';
import { importTenantSection } from './import-tenant.ts';
import { lineError } from './parse.ts';
import { type ReadRecord, RecordReader, truncated } from './reader.ts';

/** Options of {@link importStream}. */
export interface ImportOptions {
  /**
   * The target's key provider. When given, every data key must unwrap with it
   * and every turn must open and hash to its stored hash before it is written.
   */
  keyProvider?: KeyProvider;
  onProgress?: (progress: TransferProgress) => void;
  /** Who the `import.create` audit events name (default: the operator). */
  actor?: AuditActor;
  clock?: Clock;
  /** Called after each chain is imported (the system chain, then each tenant), e.g. to sign a checkpoint. */
  afterChain?: (tenantId: TenantId) => Promise<void>;
}

/** What {@link importStream} did. */
export interface ImportResult {
  /** Records read (and, but for checkpoints and a skipped system chain, written). */
  counts: TransferCounts;
  tenants: TenantId[];
  source: HeaderLine['source'];
  exportedAt: string;
  /**
   * `imported`, `absent` from the file, or `skipped`: verified, but the
   * target already has a system chain of its own to which foreign events
   * cannot be linked.
   */
  systemChain: 'imported' | 'skipped' | 'absent';
}

/**
 * Imports an export file (see `format.ts`) into `store`, record by record:
 * each record is checked, every hash chain verified (each conversation's
 * turns from its genesis hash to its head hash, each audit chain from genesis
 * with its signed checkpoints), then written with the store's import methods.
 * Refuses a target whose `session-id-secret` differs (before writing
 * anything), an existing tenant (`tenant_exists`) or conversation
 * (`conversation_conflict`). Errors name the line of the file.
 *
 * Records are written as they stream, one conversation atomically at a time:
 * a failed import (bad record, truncated file) leaves the tenants and
 * conversations written before the failure in the target. Checkpoints are
 * verified, not stored: the target signs its own (see `afterChain`).
 *
 * @example
 * const result = await importStream(store, readLines(createReadStream('tenants.ndjson')), { keyProvider });
 */
export async function importStream(
  store: Store,
  lines: AsyncIterable<string>,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const clock = options.clock ?? systemClock;
  const actor = options.actor ?? { kind: 'operator' };
  const tenants: TenantId[] = [];
  let tenantsTotal = 0;
  const reader: RecordReader = new RecordReader(lines, () =>
    options.onProgress?.({ counts: reader.counts, tenantsDone: tenants.length, tenantsTotal }),
  );

  const first = await reader.next();
  if (first === null) throw new AppError('invalid_request', 'the input is empty: it is not a Continuum export');
  if (first.record.type !== EXPORT_FORMAT) {
    throw lineError(first.line, `not a Continuum export: the first record must be the ${EXPORT_FORMAT} header`);
  }
  const header = first.record;
  tenantsTotal = header.tenants.length;

  const publicKeys = new Map<string, KeyObject>();
  for (let done = false; !done; ) {
    const secret = await reader.nextIf('secret');
    const key = secret ? null : await reader.nextIf('public_key');
    if (secret) await importSecret(store, secret);
    else if (key) publicKeys.set(key.record.kid, publicKey(key.record.jwk, key.line));
    else done = true;
  }

  let systemChain: ImportResult['systemChain'] = 'absent';
  if (header.system) {
    const mode = (await store.auditHead(SYSTEM_TENANT)) === null ? 'write' : 'verify';
    await importAuditChain({ store, reader, publicKeys, tenantId: SYSTEM_TENANT, mode });
    systemChain = mode === 'write' ? 'imported' : 'skipped';
    if (mode === 'write') await options.afterChain?.(SYSTEM_TENANT);
  }

  const context = { store, reader, header, publicKeys, keyProvider: options.keyProvider, clock, actor };
  while ((await reader.peek())?.record.type === 'tenant') {
    const line = (await reader.peek())!.line;
    const tenantId = await importTenantSection(context);
    if (tenants.includes(tenantId)) throw lineError(line, `tenant ${tenantId} appears twice`);
    tenants.push(tenantId);
    options.onProgress?.({ counts: reader.counts, tenantsDone: tenants.length, tenantsTotal });
    await options.afterChain?.(tenantId);
  }

  const end = await reader.next();
  if (end === null) throw truncated(reader.line, 'a tenant or the end record');
  if (end.record.type !== 'end') {
    throw lineError(end.line, `unexpected ${end.record.type} record (expected a tenant or the end record)`);
  }
  checkTrailer(end.record.counts, reader.counts, end.line);
  const missing = header.tenants.filter((id) => !tenants.includes(id as TenantId));
  if (missing.length > 0)
    throw lineError(end.line, `the header lists tenants the file does not hold: ${missing.join(', ')}`);
  const extra = await reader.next();
  if (extra !== null) throw lineError(extra.line, 'a record after the end record');
  return { counts: { ...reader.counts }, tenants, source: header.source, exportedAt: header.exportedAt, systemChain };
}

async function importSecret(store: Store, read: ReadRecord<SecretLine>): Promise<void> {
  const { name, value } = read.record;
  const current = await store.getOrCreateSecret(name, () => value);
  if (current === value) return;
  const why =
    name === SESSION_ID_SECRET
      ? 'conversation ids are derived from it (ADR-002), so clients opening their conversations again would get ' +
        'new ids. Import into a store that has not served yet: run `continuum migrate`, `continuum import`, ' +
        'then `continuum serve`'
      : 'the import would change it';
  throw lineError(read.line, `the target already has a different ${name}: ${why}`);
}

function publicKey(jwk: Record<string, unknown>, line: number): KeyObject {
  try {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw lineError(line, `public_key is not an Ed25519 public JWK (${reason})`);
  }
}

// A count the trailer lacks (a file from before that record type existed) is 0.
function checkTrailer(declared: Partial<TransferCounts>, read: TransferCounts, line: number): void {
  for (const name of COUNT_NAMES) {
    const count = declared[name] ?? 0;
    if (count !== read[name]) {
      throw lineError(
        line,
        `the end record counts ${count} ${name} but the file holds ${read[name]}: records are missing or extra`,
      );
    }
  }
}
