import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAdminToken } from '../../src/auth/admin-token.ts';
import { ConfigError, loadConfig, SETTINGS, unknownSettings } from '../../src/config/index.ts';

describe('loadConfig', () => {
  it('gives the documented defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: './data',
      store: 'sqlite',
      accessTokenTtl: 1800,
      refreshTokenTtl: 43_200,
      sessionIdleTtl: 3600,
      maxSessionsPerTenant: 50,
      maxStreamsPerTenant: 5,
    });
    expect(config.adminToken).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses every setting from its CONTINUUM_ name', () => {
    const config = loadConfig({
      CONTINUUM_PORT: '9000',
      CONTINUUM_ACCESS_TOKEN_TTL: '600',
      CONTINUUM_RATE_LIMIT_PER_SUBJECT: '0',
      CONTINUUM_STORE: 'sqlite',
      CONTINUUM_LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({ port: 9000, accessTokenTtl: 600, rateLimitPerSubject: 0, logLevel: 'warn' });
  });

  it.each([
    ['CONTINUUM_PORT', 'eighty', /CONTINUUM_PORT: expected a whole number/],
    ['CONTINUUM_PORT', '70000', /CONTINUUM_PORT: must be between 0 and 65535/],
    ['CONTINUUM_STORE', 'mongodb', /CONTINUUM_STORE: must be one of sqlite, postgres, dynamodb/],
    ['CONTINUUM_ACCESS_TOKEN_TTL', '1.5', /CONTINUUM_ACCESS_TOKEN_TTL/],
    ['CONTINUUM_ADMIN_TOKEN', 'short', /CONTINUUM_ADMIN_TOKEN: must be at least 16 characters/],
    ['CONTINUUM_DATABASE_URL', 'mysql://x', /CONTINUUM_DATABASE_URL: must use postgres:/],
    ['CONTINUUM_RATE_LIMIT_PER_TENANT', '-1', /CONTINUUM_RATE_LIMIT_PER_TENANT/],
    ['CONTINUUM_MAX_SESSIONS_PER_TENANT', 'lots', /CONTINUUM_MAX_SESSIONS_PER_TENANT/],
  ])('refuses %s=%s with a message naming the setting', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('names unknown CONTINUUM_ settings without refusing to start', () => {
    const env = { CONTINUUM_TYPO: '1', CONTINUUM_PORT: '9000', HOME: '/root' };
    expect(loadConfig(env).port).toBe(9000);
    expect(unknownSettings(env)).toEqual(['CONTINUUM_TYPO']);
  });

  it("does not call the client commands' CONTINUUM_API_KEY (or the tests' service URLs) unknown", () => {
    const env = {
      CONTINUUM_API_KEY: 'ck.tnt_x.y',
      CONTINUUM_TEST_REDIS_URL: 'redis://127.0.0.1:6379',
      CONTINUUM_TPYO: '1',
    };
    expect(unknownSettings(env)).toEqual(['CONTINUUM_TPYO']);
  });

  it('reports every bad setting at once', () => {
    expect(() => loadConfig({ CONTINUUM_PORT: 'x', CONTINUUM_STORE: 'y' })).toThrow(
      /CONTINUUM_PORT[\s\S]*CONTINUUM_STORE/,
    );
  });

  it('needs a database URL for the postgres store', () => {
    expect(() => loadConfig({ CONTINUUM_STORE: 'postgres' })).toThrow(/CONTINUUM_DATABASE_URL: required/);
  });

  it('every setting has a CONTINUUM_ name and a description', () => {
    for (const setting of Object.values(SETTINGS)) {
      expect(setting.env).toMatch(/^CONTINUUM_[A-Z_]+$/);
      expect(setting.description.length).toBeGreaterThan(10);
    }
  });
});

describe('the operator token', () => {
  it('is generated on first start into a 0600 file, then read back unchanged', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-admin-'));
    const first = await resolveAdminToken(undefined, dir);
    expect(first.generated).toBe(true);
    const file = path.join(dir, 'admin-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.token);
    const second = await resolveAdminToken(undefined, dir);
    expect(second).toMatchObject({ token: first.token, generated: false });
  });

  it('comes from the setting when given, and nothing is written', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-admin-'));
    expect(await resolveAdminToken('operator-token-from-env', dir)).toEqual({
      token: 'operator-token-from-env',
      generated: false,
    });
  });

  it('refuses a token file other users can read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-admin-'));
    const file = path.join(dir, 'admin-token');
    writeFileSync(file, 'cat_0123456789abcdef0123\n');
    chmodSync(file, 0o644);
    await expect(resolveAdminToken(undefined, dir)).rejects.toThrow(/chmod 600/);
  });
});
