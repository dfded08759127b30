import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SYSTEM_TENANT as SYSTEM_CHAIN } from '../../../audit/event.ts';
import { dataKeyRewrapped } from '../../../audit/events.ts';
import type { TenantId } from '../../../core/types.ts';
import type { DataKeyRecord } from '../../../crypto/data-keys.ts';
import { AppError } from '../../../errors/index.ts';
import { storeUnavailable } from '../../errors.ts';
import type { ApiKeyRecord, AuditBatch, SigningKeyRecord, Store, TenantRecord } from '../../port.ts';
import type { AuditChains, Plan, Write } from './audit-chain.ts';
import { conditionalWrite, type DynamoContext, jitter } from './client.ts';
import { key, partition } from './keys.ts';
import {
  API_KEY_ATTRS,
  apiKeyItem,
  DATA_KEY_ATTRS,
  dataKeyItem,
  SIGNING_KEY_ATTRS,
  signingKeyItem,
  TENANT_ATTRS,
  tenantItem,
  toApiKey,
  toDataKey,
  toSigningKey,
  toTenant,
} from './mapping.ts';
import { absent, getItem, putAction, queryItems, transactWrite, updateAction } from './requests.ts';

/** The store methods over server secrets, signing and data keys, tenants and API keys. */
export type CredentialMethods = Pick<
  Store,
  | 'getOrCreateSecret'
  | 'listSigningKeys'
  | 'insertSigningKey'
  | 'listDataKeys'
  | 'insertDataKey'
  | 'rewrapDataKey'
  | 'listTenantsWithDataKeys'
  | 'createTenant'
  | 'getTenant'
  | 'findApiKey'
>;

const tenantExists = (what: string) => () => new AppError('tenant_exists', `A tenant with this ${what} already exists`);

/** The writes that store a new tenant with its keys; a taken name, id or key hash is `tenant_exists`. */
export function tenantWrites(table: string, tenant: TenantRecord, apiKeys: ApiKeyRecord[]): Write[] {
  return [
    {
      action: putAction(table, { ...key.tenantName(tenant.name), tenantId: tenant.id }, absent),
      conflict: tenantExists('name'),
    },
    { action: putAction(table, tenantItem(tenant), absent), conflict: tenantExists('id') },
    ...apiKeys.flatMap((apiKey) => [
      { action: putAction(table, apiKeyItem(apiKey), absent), conflict: tenantExists('API key') },
      {
        action: putAction(table, { ...key.apiKeyHash(apiKey.hash), tenantId: apiKey.tenantId }, absent),
        conflict: tenantExists('API key'),
      },
    ]),
  ];
}

/** Bind the credential methods to `ctx`. */
export function credentialMethods(ctx: DynamoContext, chains: AuditChains): CredentialMethods {
  const table = ctx.table;

  return {
    async getOrCreateSecret(name: string, create: () => string): Promise<string> {
      const read = async () => (await getItem(ctx, 'getOrCreateSecret', key.secret(name), ['value']))?.value;
      const existing = await read();
      if (typeof existing === 'string') return existing;
      await conditionalWrite('getOrCreateSecret', () =>
        ctx.doc.send(
          new PutCommand({
            TableName: table,
            Item: { ...key.secret(name), value: create() },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        ),
      );
      // Whoever won the put, the stored value is the one every node uses.
      const stored = await read();
      if (typeof stored !== 'string')
        throw storeUnavailable('getOrCreateSecret', new Error(`secret ${name} not stored`));
      return stored;
    },

    async listSigningKeys(): Promise<SigningKeyRecord[]> {
      const items = await queryItems(ctx, 'listSigningKeys', { pk: partition.signingKeys, attrs: SIGNING_KEY_ATTRS });
      return items
        .map(toSigningKey)
        .sort((a, b) => (a.createdAt === b.createdAt ? compare(a.kid, b.kid) : compare(a.createdAt, b.createdAt)));
    },

    async insertSigningKey(record: SigningKeyRecord, retireKid: string | null, audit: AuditBatch<void>): Promise<void> {
      await chains.audited('insertSigningKey', SYSTEM_CHAIN, audit, async () => {
        const writes: Write[] = [
          {
            action: putAction(table, signingKeyItem(record), absent),
            conflict: () => storeUnavailable('insertSigningKey', new Error(`signing key ${record.kid} already exists`)),
          },
        ];
        if (retireKid !== null) {
          const retiring = await getItem(ctx, 'insertSigningKey', key.signingKey(retireKid), ['retiredAt']);
          if (retiring !== undefined && retiring.retiredAt === undefined) {
            writes.push({
              action: updateAction(table, key.signingKey(retireKid), (e) => ({
                update: `SET ${e.name('retiredAt')} = ${e.value(record.createdAt)}`,
                condition: `attribute_exists(${e.name('PK')}) AND attribute_not_exists(${e.name('retiredAt')})`,
              })),
            });
          }
        }
        return { outcome: undefined, writes };
      });
    },

    async listDataKeys(tenantId: string): Promise<DataKeyRecord[]> {
      const items = await queryItems(ctx, 'listDataKeys', { pk: partition.dataKeys(tenantId), attrs: DATA_KEY_ATTRS });
      return items.map(toDataKey);
    },

    async insertDataKey(record: DataKeyRecord): Promise<boolean> {
      const actions = [
        putAction(table, dataKeyItem(record), absent),
        putAction(table, { ...key.dataKeyTenant(record.tenantId), tenantId: record.tenantId }),
      ];
      for (let attempt = 0; attempt < 5; attempt++) {
        const result = await transactWrite(ctx, 'insertDataKey', actions);
        if (result.ok) return true;
        if (result.failed.includes(0)) return false;
        // Lost to a concurrent transaction on the registry item: try again.
        await jitter(10 * 2 ** attempt);
      }
      throw storeUnavailable('insertDataKey', new Error('still contended after 5 attempts'));
    },

    async rewrapDataKey(
      tenantId: string,
      version: number,
      expectedMasterKeyId: string,
      next: { masterKeyId: string; wrapped: Buffer },
    ): Promise<boolean> {
      // Audited only when this client's rewrap wins; a lost race changes nothing.
      const audit: AuditBatch<boolean> = {
        at: new Date(),
        events: (changed) => (changed ? [dataKeyRewrapped(version, expectedMasterKeyId, next.masterKeyId)] : []),
      };
      const { outcome } = await chains.audited('rewrapDataKey', tenantId, audit, async (): Promise<Plan<boolean>> => {
        const stored = await getItem(ctx, 'rewrapDataKey', key.dataKey(tenantId, version), ['masterKeyId']);
        if (stored?.masterKeyId !== expectedMasterKeyId) return { outcome: false, writes: [] };
        const action = updateAction(table, key.dataKey(tenantId, version), (e) => ({
          update: `SET ${e.name('masterKeyId')} = ${e.value(next.masterKeyId)}, ${e.name('wrapped')} = ${e.value(next.wrapped)}`,
          condition: `${e.name('masterKeyId')} = ${e.value(expectedMasterKeyId)}`,
        }));
        return { outcome: true, writes: [{ action }] };
      });
      return outcome;
    },

    async listTenantsWithDataKeys(): Promise<string[]> {
      const items = await queryItems(ctx, 'listTenantsWithDataKeys', { pk: partition.dataKeyTenants, attrs: ['SK'] });
      return items.map((item) => item.SK as string);
    },

    async createTenant(tenant: TenantRecord, apiKey: ApiKeyRecord, audit: AuditBatch<void>): Promise<void> {
      await chains.audited('createTenant', tenant.id, audit, async () => ({
        outcome: undefined,
        writes: tenantWrites(table, tenant, [apiKey]),
      }));
    },

    async getTenant(tenantId: TenantId): Promise<TenantRecord | null> {
      const item = await getItem(ctx, 'getTenant', key.tenant(tenantId), TENANT_ATTRS);
      return item === undefined ? null : toTenant(item);
    },

    async findApiKey(tenantId: TenantId, hash: string): Promise<ApiKeyRecord | null> {
      const item = await getItem(ctx, 'findApiKey', key.apiKey(tenantId, hash), API_KEY_ATTRS);
      return item === undefined ? null : toApiKey(item);
    },
  };
}

/** Plain code-unit order, as SQLite compares text. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
