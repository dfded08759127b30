import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { buildTestApp } from '../helpers/test-app.ts';

function capture(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { env, out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('continuum CLI', () => {
  it('prints help for the program and for each command, exit 0', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(0);
    for (const command of ['serve', 'migrate', 'tenants', 'keys', 'audit', 'token', 'chat', 'bench']) {
      expect(c.out.join('\n')).toContain(command);
      const each = capture();
      expect(await main([command, '--help'], each.io)).toBe(0);
      expect(each.out.join('\n')).toContain(`continuum ${command}`);
    }
  });

  it('exits 2 on a usage error and 78 on a configuration error', async () => {
    expect(await main(['frobnicate'], capture().io)).toBe(2);
    expect(await main(['tenants', 'create'], capture().io)).toBe(2);
    expect(await main(['tenants', 'create', '--bogus'], capture().io)).toBe(2);
    expect(await main(['serve', '--port', '9'], capture().io)).toBe(2);
    expect(await main(['audit', 'frobnicate'], capture().io)).toBe(2);
    expect(await main(['migrate'], capture({ CONTINUUM_STORE: 'postgres' }).io)).toBe(78);
    expect(await main(['dynamodb', 'drop-table'], capture().io)).toBe(2);
    const bad = capture({ CONTINUUM_PORT: 'x' });
    expect(await main(['migrate'], bad.io)).toBe(78);
    expect(bad.err.join('\n')).toContain('CONTINUUM_PORT');
  });

  it('migrate reports the schema version; a second run finds it current', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-cli-'));
    const first = capture({ CONTINUUM_DATA_DIR: dir });
    expect(await main(['migrate'], first.io)).toBe(0);
    expect(first.out.join('')).toMatch(/migrated schema from version 0 to \d+/);
    const second = capture({ CONTINUUM_DATA_DIR: dir });
    expect(await main(['migrate'], second.io)).toBe(0);
    expect(second.out.join('')).toMatch(/schema is current/);
  });

  it('tenants create makes a tenant whose API key a running server accepts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-cli-'));
    const c = capture({ CONTINUUM_DATA_DIR: dir });
    expect(await main(['tenants', 'create', '--name', 'acme-clinic', '--json'], c.io)).toBe(0);
    const created = JSON.parse(c.out.join('')) as { tenantId: string; apiKey: string; name: string };
    expect(created).toMatchObject({ name: 'acme-clinic', tenantId: expect.stringMatching(/^tnt_/) });
    const t = await buildTestApp({ dataDir: dir });
    try {
      const pair = await t.token(created.apiKey, 'patient-1');
      expect(pair.token_type).toBe('Bearer');
      const again = capture({ CONTINUUM_DATA_DIR: dir });
      expect(await main(['tenants', 'create', '--name', 'acme-clinic'], again.io)).toBe(1);
      expect(again.err.join('')).toContain('already exists');
    } finally {
      await t.close();
    }
  });

  it('keys rotate-signing switches the signer; tokens signed before still verify', async () => {
    const t = await buildTestApp();
    try {
      const { apiKey } = await t.createTenant();
      const before = await t.token(apiKey, 'patient-1');
      const c = capture({ CONTINUUM_DATA_DIR: t.dataDir });
      expect(await main(['keys', 'rotate-signing'], c.io)).toBe(0);
      expect(c.out.join('')).toMatch(/signing key rotated: sk_\S+ -> sk_\S+/);
      // Running nodes re-read the key set at most once a minute.
      t.clock.advance(61_000);
      const fresh = await t.token(apiKey, 'patient-1');
      const kid = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
      expect(kid(fresh.access_token)).not.toBe(kid(before.access_token));
      for (const token of [before.access_token, fresh.access_token]) {
        const res = await t.request({ method: 'GET', url: '/v1/conversations', token });
        expect(res.statusCode).toBe(200);
      }
    } finally {
      await t.close();
    }
  });
});
