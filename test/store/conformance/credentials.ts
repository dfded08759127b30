import { describe, expect, it } from 'vitest';
import { SYSTEM_TENANT } from '../../../src/audit/event.ts';
import type { DataKeyRecord } from '../../../src/crypto/data-keys.ts';
import { AppError } from '../../../src/errors/index.ts';
import type { ApiKeyRecord, SigningKeyRecord, TenantRecord } from '../../../src/store/port.ts';
import { allAuditEvents, freshTenant, hex, iso, recorder } from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

export function tenantRecord(overrides: Partial<TenantRecord> = {}): TenantRecord {
  return { id: freshTenant(), name: `tenant ${hex()}`, createdAt: iso(), ...overrides };
}

export function apiKeyRecord(tenant: TenantRecord, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return { id: `key_${hex(4)}`, tenantId: tenant.id, hash: hex(32), createdAt: iso(), revokedAt: null, ...overrides };
}

function signingKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = `kid_${hex(6)}`;
  return {
    kid,
    alg: 'EdDSA',
    privateJwk: JSON.stringify({ kty: 'OKP', d: hex(), kid }),
    publicJwk: JSON.stringify({ kty: 'OKP', x: hex(), kid }),
    createdAt: iso(),
    retiredAt: null,
    ...overrides,
  };
}

function dataKey(tenantId: string, overrides: Partial<DataKeyRecord> = {}): DataKeyRecord {
  return {
    tenantId,
    version: 1,
    masterKeyId: 'mk_one',
    wrapped: Buffer.from(hex(40), 'hex'),
    createdAt: iso(),
    ...overrides,
  };
}

/** Tenants, API keys, server secrets, signing keys, data keys and ping. */
export function credentialTests(ctx: SuiteContext): void {
  describe('ping', () => {
    it('answers on both clients', async () => {
      await expect(ctx.store.ping()).resolves.toBeUndefined();
      await expect(ctx.other.ping()).resolves.toBeUndefined();
    });
  });

  describe('tenants and API keys', () => {
    it('creates a tenant with its first key and finds both, audited on the tenant chain', async () => {
      const tenant = tenantRecord();
      const key = apiKeyRecord(tenant);
      const audit = recorder<void>();
      await ctx.store.createTenant(tenant, key, audit.batch);
      expect(await ctx.other.getTenant(tenant.id)).toEqual(tenant);
      expect(await ctx.other.findApiKey(tenant.id, key.hash)).toEqual(key);
      expect(await ctx.store.findApiKey(tenant.id, hex(32))).toBeNull();
      expect(await ctx.store.getTenant(freshTenant())).toBeNull();
      const events = await allAuditEvents(ctx.store, tenant.id);
      expect(events.map((e) => e.resource.id)).toEqual([audit.marker]);
    });

    it('refuses a taken name or id with tenant_exists and writes nothing, not even audit events', async () => {
      const first = tenantRecord();
      await ctx.store.createTenant(first, apiKeyRecord(first), recorder<void>().batch);

      const sameName = tenantRecord({ name: first.name });
      const sameNameKey = apiKeyRecord(sameName);
      await expect(ctx.other.createTenant(sameName, sameNameKey, recorder<void>().batch)).rejects.toMatchObject({
        code: 'tenant_exists',
      });
      expect(await ctx.store.getTenant(sameName.id)).toBeNull();
      expect(await ctx.store.findApiKey(sameName.id, sameNameKey.hash)).toBeNull();
      expect(await allAuditEvents(ctx.store, sameName.id)).toEqual([]);

      const sameId = tenantRecord({ id: first.id });
      const sameIdKey = apiKeyRecord(sameId);
      const error = await ctx.store.createTenant(sameId, sameIdKey, recorder<void>().batch).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'tenant_exists' });
      expect(await ctx.store.getTenant(first.id)).toEqual(first);
      expect(await ctx.store.findApiKey(first.id, sameIdKey.hash)).toBeNull();
      expect(await allAuditEvents(ctx.store, first.id)).toHaveLength(1);
    });

    it('keeps a revoked key with its revocation time', async () => {
      const tenant = tenantRecord();
      const key = apiKeyRecord(tenant, { revokedAt: iso(60) });
      await ctx.store.createTenant(tenant, key, recorder<void>().batch);
      expect(await ctx.store.findApiKey(tenant.id, key.hash)).toEqual(key);
    });
  });

  describe('server secrets and signing keys', () => {
    it('getOrCreateSecret: the first value wins on every client', async () => {
      const name = `secret_${hex(4)}`;
      const [a, b] = await Promise.all([
        ctx.store.getOrCreateSecret(name, () => 'value-a'),
        ctx.other.getOrCreateSecret(name, () => 'value-b'),
      ]);
      expect(a).toBe(b);
      expect(['value-a', 'value-b']).toContain(a);
      expect(await ctx.store.getOrCreateSecret(name, () => 'value-c')).toBe(a);
      expect(await ctx.other.getOrCreateSecret(name, () => 'value-d')).toBe(a);
    });

    it('inserts a signing key and retires the named one in the same step, audited on the system chain', async () => {
      const first = signingKey({ createdAt: iso(1) });
      const firstAudit = recorder<void>();
      await ctx.store.insertSigningKey(first, null, firstAudit.batch);
      const second = signingKey({ createdAt: iso(2) });
      const secondAudit = recorder<void>();
      await ctx.other.insertSigningKey(second, first.kid, secondAudit.batch);

      const keys = await ctx.store.listSigningKeys();
      // The retired key's retiredAt is the new key's createdAt.
      expect(keys).toContainEqual({ ...first, retiredAt: second.createdAt });
      expect(keys).toContainEqual(second);
      const markers = (await allAuditEvents(ctx.store, SYSTEM_TENANT)).map((e) => e.resource.id);
      expect(markers).toContain(firstAudit.marker);
      expect(markers).toContain(secondAudit.marker);
      expect(await ctx.store.listAuditTenants()).toContain(SYSTEM_TENANT);
    });
  });

  describe('data keys', () => {
    it('stores and lists a tenant data key byte-exact; other tenants see none', async () => {
      const tenantId = freshTenant();
      const record = dataKey(tenantId);
      expect(await ctx.store.insertDataKey(record)).toBe(true);
      const listed = await ctx.other.listDataKeys(tenantId);
      expect(listed).toHaveLength(1);
      expect({ ...listed[0], wrapped: Buffer.from(listed[0]!.wrapped) }).toEqual(record);
      expect(await ctx.store.listDataKeys(freshTenant())).toEqual([]);
      expect(await ctx.store.listTenantsWithDataKeys()).toContain(tenantId);
    });

    it('of two clients racing to insert the same version, exactly one wins and its key is kept', async () => {
      const tenantId = freshTenant();
      const a = dataKey(tenantId, { masterKeyId: 'mk_a' });
      const b = dataKey(tenantId, { masterKeyId: 'mk_b' });
      const results = await Promise.all([ctx.store.insertDataKey(a), ctx.other.insertDataKey(b)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? a : b;
      const listed = await ctx.store.listDataKeys(tenantId);
      expect(listed.map((k) => k.masterKeyId)).toEqual([winner.masterKeyId]);
      expect(await ctx.other.insertDataKey(dataKey(tenantId))).toBe(false);
    });

    it('keeps several versions apart', async () => {
      const tenantId = freshTenant();
      await ctx.store.insertDataKey(dataKey(tenantId, { version: 1 }));
      await ctx.store.insertDataKey(dataKey(tenantId, { version: 2 }));
      const versions = (await ctx.other.listDataKeys(tenantId)).map((k) => k.version).sort();
      expect(versions).toEqual([1, 2]);
    });

    it('rewraps only from the expected master key, and audits the rewrap on the tenant chain', async () => {
      const tenantId = freshTenant();
      const record = dataKey(tenantId, { masterKeyId: 'mk_old' });
      await ctx.store.insertDataKey(record);
      const next = { masterKeyId: 'mk_new', wrapped: Buffer.from(hex(40), 'hex') };
      expect(await ctx.store.rewrapDataKey(tenantId, 1, 'mk_wrong', next)).toBe(false);
      expect(await ctx.store.rewrapDataKey(tenantId, 2, 'mk_old', next)).toBe(false);
      expect((await ctx.store.listDataKeys(tenantId))[0]?.masterKeyId).toBe('mk_old');
      expect(await allAuditEvents(ctx.store, tenantId)).toEqual([]);

      const raced = await Promise.all([
        ctx.store.rewrapDataKey(tenantId, 1, 'mk_old', next),
        ctx.other.rewrapDataKey(tenantId, 1, 'mk_old', next),
      ]);
      expect(raced.filter(Boolean)).toHaveLength(1);
      const [stored] = await ctx.other.listDataKeys(tenantId);
      expect(stored?.masterKeyId).toBe('mk_new');
      expect(Buffer.from(stored!.wrapped).equals(next.wrapped)).toBe(true);
      expect(stored?.createdAt).toBe(record.createdAt);
      const events = await allAuditEvents(ctx.store, tenantId);
      expect(events.map((e) => e.action)).toEqual(['key.rotate']);
    });
  });
}
