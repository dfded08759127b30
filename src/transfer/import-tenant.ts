import type { KeyObject } from 'node:crypto';
import type { AuditActor } from '../audit/event.ts';
import { ChainVerifier } from '../conversations/chain-verifier.ts';
import type { Clock } from '../core/clock.ts';
import { asTenantId, type TenantId } from '../core/types.ts';
import { createTenantCipher, type DataKeyRecord, type DataKeyRepository } from '../crypto/data-keys.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { AppError, isAppError } from '../errors/index.ts';
import type { Store, TenantRecord } from '../store/port.ts';
import type { HeaderLine } from './format.ts';
import { importAuditChain } from './import-audit.ts';
import { importConversationSection } from './import-conversation.ts';
import { lineError } from './parse.ts';
import type { RecordReader } from './reader.ts';

/** What {@link importTenantSection} needs. */
export interface TenantImport {
  store: Store;
  reader: RecordReader;
  header: HeaderLine;
  publicKeys: ReadonlyMap<string, KeyObject>;
  keyProvider: KeyProvider | undefined;
  clock: Clock;
  actor: AuditActor;
}

/**
 * Reads one tenant's records and writes them: the tenant and its API keys,
 * its data keys (checked first against the key provider, when given), each
 * conversation (with its participants), and its audit chain; then appends an
 * `import.create` event with the counts to the tenant's chain. Returns the
 * tenant's id.
 */
export async function importTenantSection(options: TenantImport): Promise<TenantId> {
  const { store, reader, keyProvider } = options;
  const { record, line } = await reader.take('tenant', 'a tenant');
  const tenant: TenantRecord = { ...record.tenant, id: asTenantId(record.tenant.id) };
  const tenantId = tenant.id;
  const before = { ...reader.counts };
  if (!options.header.tenants.includes(tenantId)) throw lineError(line, `tenant ${tenantId} is not in the header`);
  const apiKeys = record.apiKeys.map((key) => ({ ...key, tenantId }));
  if (record.apiKeys.some((key) => key.tenantId !== tenantId)) {
    throw lineError(line, `an API key of tenant ${tenantId} names another tenant`);
  }

  const dataKeys: { dataKey: DataKeyRecord; line: number }[] = [];
  for (let read = await reader.nextIf('data_key'); read; read = await reader.nextIf('data_key')) {
    const dataKey = { ...read.record.dataKey, wrapped: Buffer.from(read.record.dataKey.wrapped, 'base64') };
    if (dataKey.tenantId !== tenantId) {
      throw lineError(read.line, `a data key of ${dataKey.tenantId} among the records of ${tenantId}`);
    }
    dataKeys.push({ dataKey, line: read.line });
  }
  if (keyProvider) {
    for (const { dataKey, line: keyLine } of dataKeys) {
      try {
        await keyProvider.unwrap(dataKey, { tenantId });
      } catch (error) {
        throw lineError(
          keyLine,
          `this server's master key cannot unwrap data key ${dataKey.version} of ${tenantId} (wrapped by ` +
            `master key ${dataKey.masterKeyId}): import with the master key the source used (the same key ` +
            `file, CONTINUUM_MASTER_KEY or KMS key) — ${error instanceof Error ? error.message : String(error)}`,
          'state_corrupt',
          error,
        );
      }
    }
  }

  try {
    await store.importTenant(tenant, apiKeys);
  } catch (error) {
    if (!isAppError(error)) throw error;
    const detail =
      error.code === 'tenant_exists'
        ? `tenant ${tenantId} (${tenant.name}) already exists on the target; an import never merges into an existing tenant`
        : `the target refused tenant ${tenantId}: ${error.message}`;
    throw lineError(line, detail, error.code, error);
  }
  for (const { dataKey, line: keyLine } of dataKeys) {
    if (!(await store.insertDataKey(dataKey))) {
      throw lineError(keyLine, `the target already has data key ${dataKey.version} of ${tenantId}`, 'tenant_exists');
    }
  }

  const verifier = keyProvider
    ? await contentVerifier(
        options,
        tenantId,
        dataKeys.map((k) => k.dataKey),
      )
    : null;
  while ((await reader.peek())?.record.type === 'conversation') {
    await importConversationSection({ store, reader, tenantId, verifier, clock: options.clock });
  }
  await importAuditChain({ store, reader, publicKeys: options.publicKeys, tenantId, mode: 'write' });

  const counts = reader.counts;
  await store.appendAudit(
    tenantId,
    [
      {
        action: 'import.create',
        actor: options.actor,
        resource: { type: 'tenant', id: tenantId },
        outcome: 'success',
        detail: {
          source: options.header.source,
          exportedAt: options.header.exportedAt,
          conversations: counts.conversations - before.conversations,
          turns: counts.turns - before.turns,
          participants: counts.participants - before.participants,
          auditEvents: counts.auditEvents - before.auditEvents,
        },
      },
    ],
    new Date(options.clock.now()),
  );
  return tenantId;
}

type TurnOpener = Pick<ChainVerifier, 'open'>;

// Opens turns with the file's data keys (unwrapped by the target's key provider), so
// content is checked against its hash before it is written.
async function contentVerifier(options: TenantImport, tenantId: TenantId, keys: DataKeyRecord[]): Promise<TurnOpener> {
  if (keys.length === 0) {
    return {
      open() {
        throw new AppError('state_corrupt', `tenant ${tenantId} has turns but no data keys in the file`);
      },
    };
  }
  const repository: DataKeyRepository = {
    listDataKeys: async (id) => keys.filter((key) => key.tenantId === id),
    insertDataKey: async () => false,
    rewrapDataKey: async () => false,
    listTenantsWithDataKeys: async () => [tenantId],
  };
  const cipher = createTenantCipher({ keys: options.keyProvider!, repository, clock: options.clock });
  await cipher.ensureLoaded(tenantId);
  return new ChainVerifier({ store: options.store, cipher });
}
